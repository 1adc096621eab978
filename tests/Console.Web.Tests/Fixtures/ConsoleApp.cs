using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Fixtures;

/// <summary>The console hosted in the test process on a real loopback port (Kestrel), for browser and HTTP tests.</summary>
public sealed class ConsoleApp : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly TestDirectory _data;

    private ConsoleApp(WebApplicationFactory<Program> factory, TestDirectory data, Uri address)
    {
        _factory = factory;
        _data = data;
        Address = address;
    }

    public Uri Address { get; }

    public string DataDir => _data.Path;

    public IServiceProvider Services => _factory.Services;

    public static ConsoleApp Start(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var data = new TestDirectory("console");
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("Console:DataDir", data.Path);
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                builder.UseSetting(key, value);
            }
        });
        factory.UseKestrel(0);
        try
        {
            factory.StartServer();
        }
        catch
        {
            factory.Dispose();
            data.Dispose();
            throw;
        }

        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ConsoleApp(factory, data, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        _data.Dispose();
    }
}
