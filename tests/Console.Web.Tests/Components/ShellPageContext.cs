using System.Globalization;
using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Console.Domain.Access;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Persistence;
using Console.Web;
using Console.Web.Access;
using Console.Web.Components.Pages.Audit;
using Console.Web.Components.Pages.Users;
using Console.Web.Components.Shared;
using Console.Web.Tests.Fixtures;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;

namespace Console.Web.Tests.Components;

/// <summary>
/// bUnit as the app runs the shell's pages: interactive server rendering, MudBlazor's services, and the real account
/// and audit services over a fresh SQLite database; signed in as an enabled admin stored in it.
/// </summary>
public abstract class ShellPageContext : BunitContext, IAsyncLifetime
{
    private readonly TestDirectory _data = new("shell-pages");

    protected ShellPageContext()
    {
        var settings = Options.Create(new ConsoleSettings { DataDir = _data.Path });
        var database = new ConsoleDatabase(settings);
        database.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        Users = new UserStore(database);
        Audit = new AuditLog(database, TimeProvider.System);
        var tokens = new ApiTokenStore(database);
        Accounts = new AccountService(Users, tokens, Audit, new AccessGuard(Users, tokens, Audit, NullLogger<AccessGuard>.Instance), settings, TimeProvider.System, NullLogger<AccountService>.Instance);

        Services.AddMudServices();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton(Audit);
        Services.AddSingleton(Accounts);
        Services.AddSingleton(new ClusterCatalog(settings));
        Services.AddHttpContextAccessor();
        Services.AddScoped<CurrentActor>();
        Services.AddScoped<Notifier>();
        Services.AddPageServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        Auth = AddAuthorization();

        Admin = Users.InsertAsync("ada", Role.Admin, "not-a-real-hash", mustChangePassword: false, "test", DateTimeOffset.UtcNow, CancellationToken.None).GetAwaiter().GetResult()!;
        Auth.SetAuthorized(Admin.Name);
        Auth.SetRoles(nameof(Role.Admin));
        Auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, Admin.Id.ToString(CultureInfo.InvariantCulture)), new Claim(Principals.KindClaim, nameof(ActorKind.User)));

        // After the services: setting it builds the renderer, which closes the service collection.
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected UserStore Users { get; }

    protected AuditLog Audit { get; }

    protected AccountService Accounts { get; }

    protected BunitAuthorizationContext Auth { get; }

    protected LocalUser Admin { get; }

    protected Actor AdminActor => AccountService.ActorOf(Admin);

    /// <summary>Renders the providers a page's popovers, dialogs and snackbars appear in, as the layout does.</summary>
    protected IRenderedComponent<MudDialogProvider> RenderProviders()
    {
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<MudDialogProvider>();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // Some services are IAsyncDisposable only, which bunit's synchronous Dispose (xunit v2's) cannot dispose.
    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        Accounts.Dispose();
        _data.Dispose();
    }
}
