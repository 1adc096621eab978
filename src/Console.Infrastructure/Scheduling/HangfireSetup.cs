using Console.Domain.Configuration;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Scheduling;

/// <summary>
/// Hangfire's job storage and server, configured for backups (docs/decisions/0014): SQLite in DataDir/hangfire.db for one
/// console process, PostgreSQL when several share the schedule. Unset, the store follows Console:Database, so replicas on
/// one PostgreSQL database share one schedule there (decision record 0022).
/// </summary>
public static class HangfireSetup
{
    /// <summary>The SQLite job store's file name inside DataDir.</summary>
    public const string SqliteFileName = "hangfire.db";

    // Hangfire's stores poll their queue every 15 s by default: a due backup would start up to 15 s late.
    private static readonly TimeSpan QueuePoll = TimeSpan.FromSeconds(1);

    public static IServiceCollection AddHangfireScheduling(this IServiceCollection services, SchedulerSettings scheduler, DatabaseSettings database, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        var shared = scheduler.StoreFor(database) == "postgres";
        var connectionString = shared ? scheduler.ConnectionStringFor(database) : null;

        // This host's own storage and activator: Hangfire's defaults are process-wide statics, which several hosts in one
        // process (the tests) would overwrite for each other.
        services.AddSingleton<JobStorage>(sp => CreateStorage(connectionString, dataDir, sp.GetRequiredService<IOptions<ConsoleSettings>>().Value.Etcd.SnapshotDeadline));
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, config) => config
            .UseLogProvider(new HangfireLogs(sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>()))
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());
        services.AddHangfireServer((_, options) =>
        {
            options.ServerName = $"etcd-console:{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
            options.WorkerCount = 4;
            options.SchedulePollingInterval = QueuePoll;
            options.ServerTimeout = TimeSpan.FromMinutes(2);
            options.ShutdownTimeout = TimeSpan.FromSeconds(15);
        });
        services.AddSingleton(sp => new ScheduleStateStore(sp.GetRequiredService<JobStorage>(), shared));
        services.AddTransient<ScheduleTickJob>();
        services.AddTransient<ScheduledBackupJob>();
        return services;
    }

    /// <summary>How soon a job of a replica that died is handed to another (PostgreSQL, sliding: see CreateStorage).</summary>
    internal static readonly TimeSpan SharedInvisibility = TimeSpan.FromSeconds(30);

    // JobStorage is what the container hands out, whichever store it is.
#pragma warning disable CA1859
    private static JobStorage CreateStorage(string? postgres, string dataDir, TimeSpan snapshotDeadline)
    {
        // SQLite (one console): a job still running after the invisibility timeout is handed to another worker, so keep
        // it well past the longest backup (our own claim would refuse the copy anyway).
        var invisibility = snapshotDeadline + TimeSpan.FromHours(1);
        if (postgres is { } connection)
        {
            return new PostgreSqlStorage(
                new NpgsqlConnectionFactory(connection, new PostgreSqlStorageOptions()),
                new PostgreSqlStorageOptions
                {
                    SchemaName = "hangfire",
                    PrepareSchemaIfNecessary = true,
                    QueuePollInterval = QueuePoll,
                    // Replicas: a worker keeps its job hidden while it lives (sliding), so a job whose replica was
                    // killed before it claimed its occurrence is handed to a survivor within half a minute, before the
                    // next occurrence (a minute at the least) makes it too late; not after the deadline plus an hour.
                    UseSlidingInvisibilityTimeout = true,
                    InvisibilityTimeout = SharedInvisibility,
                });
        }

        Directory.CreateDirectory(dataDir);
        return new SQLiteStorage(
            Path.Combine(dataDir, SqliteFileName),
            new SQLiteStorageOptions
            {
                QueuePollInterval = QueuePoll,
                InvisibilityTimeout = invisibility,
                AutoVacuumSelected = SQLiteStorageOptions.AutoVacuum.FULL,
            });
    }
#pragma warning restore CA1859
}
