using Console.Domain.Access;
using Console.Infrastructure.Access;
using Console.Web.Access;
using Hangfire;
using Hangfire.Dashboard;

namespace Console.Web.Scheduling;

/// <summary>
/// Hangfire's dashboard at /hangfire, for Admins only. The endpoint sits behind the fallback policy, so an anonymous
/// caller is sent to the sign-in form before Hangfire sees the request; the filter then admits a signed-in user only
/// when the database still says Admin (a role taken away meanwhile counts), and Hangfire answers anyone else 403.
/// </summary>
internal static class HangfireDashboard
{
    public const string Path = "/hangfire";

    /// <summary>
    /// Hangfire's own MapHangfireDashboard resolves the job storage while the pipeline is built, which would open (or
    /// create) hangfire.db, or connect to PostgreSQL, before start-up has checked the configuration and the file. The
    /// same dashboard middleware is built here on the first request instead.
    /// </summary>
    public static WebApplication MapConsoleHangfireDashboard(this WebApplication app)
    {
        var dashboard = new Lazy<RequestDelegate>(() => Build(app), LazyThreadSafetyMode.ExecutionAndPublication);
        app.Map(Path + "/{**path}", context => dashboard.Value(context));
        return app;
    }

    private static RequestDelegate Build(WebApplication app)
    {
        var services = app.Services;
        var options = new DashboardOptions
        {
            AppPath = "/",
            DashboardTitle = "etcd console: jobs",
            DisplayStorageConnectionString = false,
            Authorization = [],
            AsyncAuthorization = [new AdminsOnly()],
            TimeZoneResolver = services.GetService<Hangfire.ITimeZoneResolver>(),
        };
        return ((IEndpointRouteBuilder)app).CreateApplicationBuilder()
            .UsePathBase(Path)
            .UseMiddleware<Hangfire.Dashboard.AspNetCoreDashboardMiddleware>(services.GetRequiredService<JobStorage>(), options, services.GetRequiredService<Hangfire.Dashboard.RouteCollection>())
            .Build();
    }

    private sealed class AdminsOnly : IDashboardAsyncAuthorizationFilter
    {
        public async Task<bool> AuthorizeAsync(DashboardContext context)
        {
            var http = context.GetHttpContext();
            if (http.User.UserId() is not { } id)
            {
                return false;
            }

            var user = await http.RequestServices.GetRequiredService<UserStore>().GetAsync(id, http.RequestAborted);
            return user is { Disabled: false, Role: Role.Admin };
        }
    }
}
