using Console.Domain.Access;
using Console.Infrastructure.Access;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Console.Web.Tests.Fixtures;

/// <summary>The console hosted in the test process on a real loopback port (Kestrel), for browser and HTTP tests.</summary>
public sealed class ConsoleApp : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly TestDirectory? _ownedData;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Role, (string, string)> _users = new();

    private ConsoleApp(WebApplicationFactory<Program> factory, TestDirectory? ownedData, string dataDir, Uri address)
    {
        _factory = factory;
        _ownedData = ownedData;
        DataDir = dataDir;
        Address = address;
    }

    public Uri Address { get; }

    public string DataDir { get; }

    public IServiceProvider Services => _factory.Services;

    /// <param name="dataDir">An existing data dir to start on (a "restart"); by default a fresh one, deleted on dispose.</param>
    /// <param name="logs">Receives every log line at every level (secrets tests, the first-run password).</param>
    /// <param name="services">Registrations after the app's own (fakes of a port the test stands in for).</param>
    public static ConsoleApp Start(IReadOnlyDictionary<string, string?>? settings = null, string? dataDir = null, LogSink? logs = null, Action<IServiceCollection>? services = null)
    {
        // A port picked free can be taken by another process before Kestrel binds it (a busy machine, another test
        // run): pick again rather than fail the test over it.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return StartOnce(settings, dataDir, logs, services);
            }
            catch (IOException ex) when (attempt < 5 && ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
            }
        }
    }

    private static ConsoleApp StartOnce(IReadOnlyDictionary<string, string?>? settings, string? dataDir, LogSink? logs, Action<IServiceCollection>? services)
    {
        var owned = dataDir is null ? new TestDirectory("console") : null;
        var dataPath = dataDir ?? owned!.Path;

        // An explicit free port, set as the host's URL: with UseKestrel(0) alone the host listened on Kestrel's default
        // localhost:5000, so two hosts started by tests running in parallel collided there.
        var port = Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0];
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Development");
            builder.UseSetting(WebHostDefaults.ServerUrlsKey, $"http://127.0.0.1:{port}");
            builder.UseSetting("Console:DataDir", dataPath);
            builder.UseSetting("Logging:LogLevel:Default", "Warning");

            // Re-reading every stored copy at start would add verifications the tests did not ask for; the tests of the
            // re-verification turn it back on.
            builder.UseSetting("Console:Verification:Every", "off");
            if (logs is not null)
            {
                builder.ConfigureLogging(l => l.AddProvider(logs).AddFilter<LogSink>(null, Microsoft.Extensions.Logging.LogLevel.Trace));
            }

            if (services is not null)
            {
                builder.ConfigureTestServices(services);
            }

            foreach (var (key, value) in DrillsOff.Apply(settings ?? new Dictionary<string, string?>(), ":"))
            {
                builder.UseSetting(key, value);
            }

        });
        factory.UseKestrel(port);
        try
        {
            factory.StartServer();
        }
        catch
        {
            factory.Dispose();
            owned?.Dispose();
            throw;
        }

        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        if (!address.EndsWith($":{port}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the test host listens on {address}, not on the port it was given ({port})");
        }

        return new ConsoleApp(factory, owned, dataPath, new Uri($"http://127.0.0.1:{port}"));
    }

    /// <summary>
    /// Waits until the sandbox's first scheduled backup (taken at start) has succeeded and nothing is running, so a
    /// test's own backup is certainly the newest. Waiting only for "nothing running" could pass before it began.
    /// </summary>
    public async Task WaitForFirstBackupAsync(string cluster = "sandbox")
    {
        var records = Services.GetRequiredService<Console.Infrastructure.Persistence.BackupRecordStore>();
        var runner = Services.GetRequiredService<Console.Infrastructure.Backups.BackupRunner>();
        await Eventually.ValueAsync(
            async () => await records.LastSuccessAsync(cluster, CancellationToken.None) is not null && runner.RunningFor(cluster) is null,
            done => done,
            TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// A user of <paramref name="role"/> ("test-viewer", "test-operator", "test-admin") with a random password and no
    /// forced change, made once per app directly in its user store.
    /// </summary>
    public async Task<(string Name, string Password)> UserAsync(Role role)
    {
        var name = "test-" + role.ToString().ToLowerInvariant();
        if (_users.TryGetValue(role, out var known))
        {
            return known;
        }

        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var users = Services.GetRequiredService<UserStore>();
        var hash = new PasswordHasher<LocalUser>().HashPassword(null!, password);
        _ = await users.InsertAsync(name, role, hash, mustChangePassword: false, "test", DateTimeOffset.UtcNow, CancellationToken.None)
            ?? throw new InvalidOperationException($"the user {name} exists already");
        _users[role] = (name, password);
        return (name, password);
    }

    /// <summary>The actor of <see cref="UserAsync"/>'s user, as a signed-in page would call the services with.</summary>
    public async Task<Actor> ActorAsync(Role role)
    {
        var (name, _) = await UserAsync(role);
        var user = await Services.GetRequiredService<UserStore>().FindAsync(name, CancellationToken.None);
        return AccountService.ActorOf(user!);
    }

    /// <summary>An HTTP client signed in through the real sign-in form as a user of <paramref name="role"/>.</summary>
    public async Task<HttpClient> SignedInClientAsync(Role role)
    {
        var (name, password) = await UserAsync(role);
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = Address };
        var response = await SignInAsync(client, name, password);
        if (response.StatusCode != System.Net.HttpStatusCode.Redirect)
        {
            client.Dispose();
            throw new InvalidOperationException($"signing in as {name} answered {(int)response.StatusCode}");
        }

        return client;
    }

    /// <summary>Posts the sign-in form (with the antiforgery token of a freshly loaded form) and returns the answer.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string name, string password)
    {
        var form = await client.GetStringAsync("/account/login");
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = AntiforgeryToken(form),
            ["_handler"] = "login",
            ["Input.Name"] = name,
            ["Input.Password"] = password,
        });
        return await client.PostAsync("/account/login", content);
    }

    /// <summary>The antiforgery token of the first form in a rendered page.</summary>
    public static string AntiforgeryToken(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"") is { Success: true } m
            ? System.Net.WebUtility.HtmlDecode(m.Groups[1].Value)
            : throw new InvalidOperationException("the page has no antiforgery token");

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        _ownedData?.Dispose();
    }
}
