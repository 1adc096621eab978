using Console.Infrastructure;
using Console.Web;

// A one-off command instead of the console (decision record 0025); any other arguments are the host's, as before.
if (args is [CopyStateCommand.Name, .. var copyArgs])
{
    return await CopyStateCommand.RunAsync(copyArgs, System.Console.Out, System.Console.Error, CancellationToken.None);
}

var builder = WebApplication.CreateBuilder(args);

// Package assets (the framework's blazor.web.js, MudBlazor's CSS/JS) are served from the build output only in
// Development unless asked for: run.sh and the process tests run the build output as Production.
builder.WebHost.UseStaticWebAssets();

builder.Services.AddInfrastructure(builder.Configuration);
builder.Services.AddWebServices(builder.Configuration);

var app = builder.Build();
app.UseConsolePipeline();

return await StartupFailure.RunAsync(app);

/// <summary>Visible to the test host (WebApplicationFactory).</summary>
public partial class Program;
