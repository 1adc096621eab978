using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Console.Domain.Access;
using Console.Infrastructure;
using Console.Infrastructure.Access;
using Console.Infrastructure.Persistence;
using Console.Web;
using Console.Web.Access;
using Console.Web.Tests.Fixtures;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace Console.Web.Tests.Components;

/// <summary>
/// bunit with the console's real services behind a page: its configuration, SQLite in a temp data dir and Hangfire's
/// SQLite store, but no hosted service running (no poller, no scheduler tick, no sandbox), so a test sets the facts itself.
/// The page's service is the app's own registration; the signed-in user exists in the database, as the services check.
/// </summary>
public abstract class ConsolePageContext : BunitContext, IAsyncLifetime
{
    private readonly TestDirectory _data = new("pages");
    private readonly BunitAuthorizationContext _auth;
    private readonly Role _role;
    private readonly bool _migrate;

    /// <param name="migrate">False leaves the database without its tables: a console whose records cannot be read.</param>
    /// <param name="services">Registrations after the console's own (fakes of a port the test stands in for).</param>
    protected ConsolePageContext(IReadOnlyDictionary<string, string?> settings, Role role = Role.Admin, bool migrate = true, Action<IServiceCollection>? services = null)
    {
        _role = role;
        _migrate = migrate;
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Console:DataDir"] = _data.Path });
        Services.AddLogging();
        Services.AddInfrastructure(configuration);
        Services.AddSingleton<Microsoft.Extensions.Hosting.IHostApplicationLifetime, Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>();
        Services.AddMudServices();
        Services.AddHttpContextAccessor();
        Services.AddScoped<CurrentActor>();
        Services.AddPageServices();

        // The pages' notifier is internal to the web project; register it by its type, as the app does.
        Services.AddScoped<Console.Web.Components.Shared.Notifier>();
        services?.Invoke(Services);
        _auth = AddAuthorization();
        JSInterop.Mode = JSRuntimeMode.Loose;

        // After the services: setting it builds the renderer, which closes the service collection.
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected string DataDir => _data.Path;

    public async Task InitializeAsync()
    {
        if (!_migrate)
        {
            return;
        }

        await Services.GetRequiredService<ConsoleDatabase>().MigrateAsync(CancellationToken.None);
        var name = "test-" + _role.ToString().ToLowerInvariant();
        var hash = new PasswordHasher<LocalUser>().HashPassword(null!, "not used: signed in by the test");
        var user = await Services.GetRequiredService<UserStore>().InsertAsync(name, _role, hash, mustChangePassword: false, "test", DateTimeOffset.UtcNow, CancellationToken.None);
        _auth.SetAuthorized(name);
        _auth.SetRoles(_role.ToString());
        _auth.SetPolicies([.. Enum.GetValues<Role>().Where(r => r <= _role).Select(r => r.ToString())]);
        _auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Claim("console:kind", nameof(ActorKind.User)));
    }

    /// <summary>Renders the page below the providers it needs (popovers for selects and tooltips, snackbars for messages).</summary>
    protected IRenderedComponent<TPage> RenderPage<TPage>()
        where TPage : IComponent
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<TPage>();
    }

    /// <summary>The text of every snackbar shown so far.</summary>
    protected IReadOnlyList<string> Snackbars() => [.. Services.GetRequiredService<ISnackbar>().ShownSnackbars.Select(s => s.Message?.ToString() ?? string.Empty)];

    Task IAsyncLifetime.DisposeAsync()
    {
        return DisposeAndDeleteAsync();

        async Task DisposeAndDeleteAsync()
        {
            await DisposeAsync();
            _data.Dispose();
        }
    }
}
