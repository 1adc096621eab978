using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Access;

/// <summary>
/// At the first start (no users at all) creates <c>admin</c> with a generated one-time password and prints it once.
/// The password must be changed at the first sign-in, so the printed one is worthless afterwards.
/// Runs after <see cref="Backups.BackupStartup"/> has brought the database schema up to date.
/// </summary>
internal sealed partial class AccessStartup(AccountService accounts, ConsoleStateStore state, IOptions<ConsoleSettings> settings, TimeProvider clock, ILogger<AccessStartup> logger) : IHostedService
{
    private const string ResetDone = "auth.admin-reset-done";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await accounts.EnsureFirstAdminAsync(cancellationToken).ConfigureAwait(false) is { } password)
        {
            LogFirstAdmin(logger, AccountService.FirstAdminName, password);
        }
        else if (!settings.Value.Auth.ResetAdminPassword)
        {
            // The setting is gone: a later one resets again.
            await state.SetAsync(ResetDone, null, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        else if (await state.GetAsync(ResetDone, cancellationToken).ConfigureAwait(false) is { } done)
        {
            // Left in place after it was used: resetting again at every restart would undo the new password.
            LogResetStillSet(logger, done);
        }
        else
        {
            LogAdminReset(logger, AccountService.FirstAdminName, await accounts.ResetFirstAdminAsync(cancellationToken).ConfigureAwait(false));
            await state.SetAsync(ResetDone, clock.GetUtcNow().ToString("u", System.Globalization.CultureInfo.InvariantCulture), clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "First run: created the user '{User}' with the one-time password  {Password}  (shown only now). Sign in and choose a new password.")]
    private static partial void LogFirstAdmin(ILogger logger, string user, string password);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console:Auth:ResetAdminPassword: the user '{User}' is an enabled Admin with the one-time password  {Password}  (shown only now). Sign in, choose a new password, and remove the setting.")]
    private static partial void LogAdminReset(ILogger logger, string user, string password);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console:Auth:ResetAdminPassword is still set; the reset was done at {Done} and is not repeated. Remove the setting.")]
    private static partial void LogResetStillSet(ILogger logger, string done);
}
