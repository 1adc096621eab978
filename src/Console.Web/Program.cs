using Console.Infrastructure;
using Console.Web;

var builder = WebApplication.CreateBuilder(args);

// Serve Razor class library assets (Radzen's CSS/JS) from build output too, not only after 'dotnet publish'.
builder.WebHost.UseStaticWebAssets();

builder.Services.AddInfrastructure(builder.Configuration);
builder.Services.AddWebServices(builder.Configuration);

var app = builder.Build();
app.UseConsolePipeline();

return await StartupFailure.RunAsync(app);

/// <summary>Visible to the test host (WebApplicationFactory).</summary>
public partial class Program;
