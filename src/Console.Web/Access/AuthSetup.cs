using Console.Domain.Access;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Console.Web.Access;

/// <summary>Policy names: one per role, each admitting that role and the roles above it.</summary>
public static class Policies
{
    public const string Viewer = nameof(Role.Viewer);
    public const string Operator = nameof(Role.Operator);
    public const string Admin = nameof(Role.Admin);
}

/// <summary>
/// Sign-in for people (a cookie) and for automation (bearer tokens), one scheme chosen per request; every endpoint
/// needs a signed-in caller unless it says otherwise (the fallback policy), and pages, endpoints and services demand
/// their role on top.
/// </summary>
internal static class AuthSetup
{
    public const string LoginPath = "/account/login";
    public const string ChangePasswordPath = "/account/change-password";
    public const string DownloadPath = "/snapshots/download";
    private const string Selector = "console";

    public static IServiceCollection AddConsoleAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var alwaysSecure = configuration.GetValue<bool>("Console:Auth:SecureCookies");
        services.AddAuthentication(Selector)
            .AddPolicyScheme(Selector, null, o => o.ForwardDefaultSelector = context => SchemeFor(context.Request))
            .AddCookie(o =>
            {
                o.Cookie.Name = "etcd-console.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;

                // Secure whenever the console is served over HTTPS (directly, or behind a known proxy that says so in
                // X-Forwarded-Proto), and always with Console:Auth:SecureCookies. Plain HTTP is for the loopback sandbox.
                o.Cookie.SecurePolicy = alwaysSecure ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.LoginPath = LoginPath;
                o.AccessDeniedPath = "/account/denied";
                o.Events.OnValidatePrincipal = async context =>
                {
                    var users = context.HttpContext.RequestServices.GetRequiredService<UserStore>();
                    if (context.Principal is null || !await UserRevalidation.IsCurrentAsync(users, context.Principal, context.HttpContext.RequestAborted))
                    {
                        context.RejectPrincipal();
                        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                    }
                };

                // The API and the Blazor hub answer with status codes; only pages redirect to the sign-in form.
                o.Events.OnRedirectToLogin = context => IsPage(context.Request) ? Redirect(context) : Problems.UnauthorizedAsync(context.HttpContext);
                o.Events.OnRedirectToAccessDenied = context => IsPage(context.Request) ? Redirect(context) : Problems.ForbiddenAsync(context.HttpContext);
            })
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(ApiTokenHandler.SchemeName, null);

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Policies.Viewer, p => p.RequireAuthenticatedUser().RequireAssertion(c => c.User.RoleOf() >= Role.Viewer))
            .AddPolicy(Policies.Operator, p => p.RequireAuthenticatedUser().RequireAssertion(c => c.User.RoleOf() >= Role.Operator))
            .AddPolicy(Policies.Admin, p => p.RequireAuthenticatedUser().RequireAssertion(c => c.User.RoleOf() >= Role.Admin));
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, UserRevalidation>();
        services.AddScoped<CurrentActor>();
        services.AddHttpContextAccessor();

        // Every replica on one database reads every other's cookies, and counts sign-in posts in one place (ADR 0024).
        services.AddSharedSignIn();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, RefusalAudit>();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ConsoleSettings>>((o, settings) => TrustOnly(o, settings.Value.Auth.KnownProxies));
        return services;
    }

    /// <summary>
    /// The API takes bearer tokens only: a browser's cookie there would let any page on the same site post to it. Pages,
    /// the Blazor hub, forms and everything else take the sign-in cookie only: a token is for automation, not for a
    /// browser session. The snapshot download takes either (the README documents it for both), a token first.
    /// </summary>
    private static string SchemeFor(HttpRequest request) =>
        request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
        || request.Path.StartsWithSegments(Api.MetricsEndpoints.Path, StringComparison.OrdinalIgnoreCase)
        || (request.Path.StartsWithSegments(DownloadPath, StringComparison.OrdinalIgnoreCase) && ApiTokenHandler.HasBearer(request))
            ? ApiTokenHandler.SchemeName
            : CookieAuthenticationDefaults.AuthenticationScheme;

    /// <summary>
    /// X-Forwarded-For and X-Forwarded-Proto are believed only from Console:Auth:KnownProxies (none by default, and not
    /// even loopback, the framework's default): otherwise anyone could claim a new address per request (and so escape the
    /// sign-in limit and write a forged address into the audit log) or claim HTTPS. Entries were checked at start.
    /// </summary>
    private static void TrustOnly(ForwardedHeadersOptions options, IReadOnlyList<string> knownProxies)
    {
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();

        // The obsolete list is still consulted and holds loopback by default: it is emptied too.
#pragma warning disable ASPDEPR005
        options.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
        foreach (var entry in knownProxies)
        {
            if (KnownProxy.TryParse(entry, out var network, out _))
            {
                options.KnownIPNetworks.Add(network);
            }
        }

        // With no known proxy at all the middleware would believe everyone, so it is told to read nothing instead.
        options.ForwardedHeaders = options.KnownIPNetworks.Count == 0 ? ForwardedHeaders.None : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
    }

    /// <summary>Authentication, the forced password change, then authorization.</summary>
    public static WebApplication UseConsoleAuth(this WebApplication app)
    {
        // Only Console:Auth:KnownProxies are believed (see TrustOnly); before the sign-in limit, which counts per address.
        app.UseForwardedHeaders();
        app.Use(LimitSignInsAsync);
        app.UseAuthentication();
        app.Use(async (context, next) =>
        {
            // A user with a one-time password reaches nothing but the password change (and static files) until done.
            if (context.User.MustChangePassword() && !MayPassBeforePasswordChange(context.Request.Path))
            {
                if (IsPage(context.Request))
                {
                    context.Response.Redirect(ChangePasswordPath);
                }
                else
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                }

                return;
            }

            await next(context);
        });
        app.UseAuthorization();
        app.Use(async (context, next) =>
        {
            // A service refused although the endpoint admitted the caller (a role changed meanwhile): 403, not 500.
            try
            {
                await next(context);
            }
            catch (AccessDeniedException ex) when (!context.Response.HasStarted)
            {
                context.Response.Clear();
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsJsonAsync(new { title = "Not allowed", status = 403, detail = ex.Message }, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
            }
        });
        return app;
    }

    /// <summary>
    /// Sign-in posts per remote address: 20 a minute across every replica (counted in the database), on top of the
    /// per-user lockout, so nobody can flood the form (and the audit log) with guesses across many names.
    /// </summary>
    private static async Task LimitSignInsAsync(HttpContext context, RequestDelegate next)
    {
        if (HttpMethods.IsPost(context.Request.Method)
            && context.Request.Path.StartsWithSegments(LoginPath, StringComparison.OrdinalIgnoreCase)
            && !await context.RequestServices.GetRequiredService<SignInAttempts>().TryAdmitAsync(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", context.RequestAborted))
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(SignInAttempts.RefusedMessage, context.RequestAborted);
            return;
        }

        await next(context);
    }

    private static bool MayPassBeforePasswordChange(PathString path) =>
        path.StartsWithSegments("/account", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/_framework", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/_content", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/css", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase);

    private static bool IsPage(HttpRequest request) =>
        HttpMethods.IsGet(request.Method)
        && !request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
        && !request.Path.StartsWithSegments("/_blazor", StringComparison.OrdinalIgnoreCase)
        && !request.Path.StartsWithSegments(DownloadPath, StringComparison.OrdinalIgnoreCase);

    private static Task Redirect(RedirectContext<CookieAuthenticationOptions> context)
    {
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
