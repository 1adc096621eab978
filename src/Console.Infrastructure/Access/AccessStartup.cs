using Console.Domain.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Access;

/// <summary>
/// At the first start (no users at all) creates <c>admin</c> with a generated one-time password and prints it once.
/// The password must be changed at the first sign-in, so the printed one is worthless afterwards.
/// Runs after <see cref="Backups.BackupStartup"/> has brought the database schema up to date.
/// </summary>
internal sealed partial class AccessStartup(AccountService accounts, IOptions<ConsoleSettings> settings, ILogger<AccessStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await accounts.EnsureFirstAdminAsync(cancellationToken).ConfigureAwait(false) is { } password)
        {
            LogFirstAdmin(logger, AccountService.FirstAdminName, password);
        }
        else if (settings.Value.Auth.ResetAdminPassword)
        {
            LogAdminReset(logger, AccountService.FirstAdminName, await accounts.ResetFirstAdminAsync(cancellationToken).ConfigureAwait(false));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "First run: created the user '{User}' with the one-time password  {Password}  (shown only now). Sign in and choose a new password.")]
    private static partial void LogFirstAdmin(ILogger logger, string user, string password);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console:Auth:ResetAdminPassword: the user '{User}' is an enabled Admin with the one-time password  {Password}  (shown only now). Sign in, choose a new password, and remove the setting.")]
    private static partial void LogAdminReset(ILogger logger, string user, string password);
}
