using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure;

/// <summary>
/// What must hold before the host starts anything: a valid configuration (every problem at once) and database files
/// that are either absent (a first run) or sound. Run before the host, a failure here is the operator's plain list, not
/// a host start-up failure logged with its stack trace, and nothing has opened, created or changed a file yet.
/// </summary>
public static class StartupChecks
{
    /// <exception cref="OptionsValidationException">The configuration is invalid.</exception>
    /// <exception cref="DamagedDatabaseException">A database file exists but cannot be used.</exception>
    public static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var settings = services.GetRequiredService<IOptions<ConsoleSettings>>().Value;
        await services.GetRequiredService<ConsoleDatabase>().CheckAsync(cancellationToken).ConfigureAwait(false);
        if (services.GetService<Access.KeyEncryptionKey>() is not null)
        {
            await Access.SharedSignIn.CheckKeyRingAsync(services, cancellationToken).ConfigureAwait(false);
        }

        // Hangfire's own SQLite store (see AddScheduling); Hangfire would fail on a damaged one with a stack trace.
        var scheduler = Path.Combine(Path.GetFullPath(settings.DataDir), Scheduling.HangfireSetup.SqliteFileName);
        if (settings.Scheduler.StoreFor(settings.Database) == "sqlite" && File.Exists(scheduler)
            && await SqliteFileCheck.ProblemAsync(scheduler, requiredTable: null, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            throw new DamagedDatabaseException(
                scheduler,
                problem,
                "It holds only the scheduler's jobs and where each schedule stands, which the console makes again from its settings: move the file aside and start again.");
        }
    }
}
