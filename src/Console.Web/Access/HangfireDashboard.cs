using Console.Domain.Access;
using Console.Infrastructure.Access;
using Hangfire;
using Hangfire.Dashboard;

namespace Console.Web.Access;

/// <summary>
/// Hangfire's dashboard at /hangfire, for Admins only. The endpoint sits behind the fallback policy, so an anonymous
/// caller is sent to the sign-in form before Hangfire sees the request; the filter then admits a signed-in user only
/// when the database still says Admin (a role taken away meanwhile counts), and Hangfire answers anyone else 403.
/// </summary>
internal static class HangfireDashboard
{
    public const string Path = "/hangfire";

    public static WebApplication MapConsoleHangfireDashboard(this WebApplication app)
    {
        app.MapHangfireDashboard(Path, new DashboardOptions
        {
            AppPath = "/",
            DashboardTitle = "etcd console: jobs",
            DisplayStorageConnectionString = false,
            Authorization = [],
            AsyncAuthorization = [new AdminsOnly()],
        });
        return app;
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
