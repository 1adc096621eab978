using Console.Domain.Configuration;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Configuration;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Hosting;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Scheduling;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure;

public static class DependencyInjection
{
    /// <summary>
    /// Everything behind the pages: configuration, etcd, the cluster status poller and the sandbox. Call it before
    /// anything reads the configuration: it masks the Console values that do not parse (reported at start with every
    /// other configuration error), so no later reader throws on them.
    /// </summary>
    public static IServiceCollection AddInfrastructure(this IServiceCollection services, IConfigurationManager configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services
            .AddShutdownWatch()
            .AddConsoleSettings(configuration)
            .AddPersistence()
            .AddReplicas(configuration)
            .AddEtcd()
            .AddSandbox(configuration)
            .AddClusterStatus()
            .AddBackups(configuration)
            .AddRestore()
            .AddScheduling(configuration)
            .AddContinuousBackup()
            .AddBackupMetrics()
            .AddAlerts();
    }

    /// <summary>
    /// Shutdown within a bound (see <see cref="ShutdownBudget"/>). The watch is the first hosted service, so it is
    /// stopped and released last and can say what shutdown waits for until the very end.
    /// </summary>
    private static IServiceCollection AddShutdownWatch(this IServiceCollection services)
    {
        services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownBudget.Services);
        services.AddSingleton<ShutdownWatch>();
        services.AddHostedService(sp => sp.GetRequiredService<ShutdownWatch>());
        return services;
    }

    private static IServiceCollection AddConsoleSettings(this IServiceCollection services, IConfigurationManager configuration)
    {
        services.AddSingleton(new ConsoleSettingsTypeErrors(ConsoleSettingsTypeCheck.MaskValuesThatDoNotParse(configuration)));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IValidateOptions<ConsoleSettings>, ConsoleSettingsValidation>();
        services.AddOptions<ConsoleSettings>()
            .Bind(configuration.GetSection(ConsoleSettings.SectionName))
            .ValidateOnStart();
        return services;
    }

    private static IServiceCollection AddPersistence(this IServiceCollection services)
    {
        services.AddSingleton<ConsoleDatabase>();
        services.AddSingleton<BackupRecordStore>();
        services.AddSingleton<BackupOverrideStore>();
        services.AddSingleton<SnapshotLedger>();
        services.AddSingleton<LocalSnapshotStore>();
        services.AddSingleton<ISnapshotStore>(sp => sp.GetRequiredService<LocalSnapshotStore>());
        services.AddSingleton<SnapshotStores>();
        services.AddSingleton<SnapshotCatalog>();
        services.AddSingleton<Sealing.SealingKeys>();
        services.AddSingleton<Sealing.SnapshotOpener>();
        services.AddSingleton<RestoreSessionStore>();

        // First hosted service: the schema is migrated and a crashed run's leftovers are settled before anything else.
        services.AddHostedService<BackupStartup>();
        services.AddSingleton<ConsoleStateStore>();
        services.AddSingleton<Access.UserStore>();
        services.AddSingleton<Access.ApiTokenStore>();
        services.AddSingleton<Access.AuditLog>();
        services.AddSingleton<Access.AccessGuard>();
        services.AddSingleton<Access.AccountService>();
        services.AddHostedService<Access.AccessStartup>();
        return services;
    }

    /// <summary>This process as one replica of several on one database (decision record 0022): its name, heartbeat, sweeper and backup locks.</summary>
    private static IServiceCollection AddReplicas(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp => new Replicas.ReplicaIdentity(sp.GetRequiredService<IOptions<ConsoleSettings>>(), configuration, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<Replicas.ReplicaStore>();
        services.AddSingleton<Replicas.ClusterBackupLocks>();
        services.AddSingleton<Replicas.ReplicaMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<Replicas.ReplicaMonitor>());
        return services;
    }

    private static IServiceCollection AddBackups(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<BackupProgressFeed>();
        services.AddSingleton<BackupSuspensions>();
        services.AddSingleton<BackupRunner>();
        services.AddSingleton<RetentionPlanning>();

        // Replicas share one PostgreSQL database: each shows the others' runs live (decision record 0023).
        if (configuration[$"{ConsoleSettings.SectionName}:Database:Provider"] == "postgres")
        {
            services.AddHostedService<ProgressRelay>();
        }

        // The S3 target exists only when a bucket is configured (validation requires one for clusters that use it).
        if (!string.IsNullOrWhiteSpace(configuration[$"{ConsoleSettings.SectionName}:Storage:S3:Bucket"]))
        {
            services.AddSingleton<S3SnapshotStore>();
            services.AddSingleton<ISnapshotStore>(sp => sp.GetRequiredService<S3SnapshotStore>());
            services.AddSingleton<UploadRetryService>();
            services.AddHostedService(sp => sp.GetRequiredService<UploadRetryService>());
        }

        return services;
    }

    /// <summary>Continuous backup (decision record 0029): the ledger, the history read back, and the watcher.</summary>
    private static IServiceCollection AddContinuousBackup(this IServiceCollection services)
    {
        services.AddSingleton<DeltaLedger>();
        services.AddSingleton<DrillLedger>();
        services.AddSingleton<Continuous.DeltaSegmentWriter>();
        services.AddSingleton<Continuous.DeltaPruning>();
        services.AddSingleton<Continuous.DeltaHistory>();
        services.AddSingleton<Continuous.IDeltaHistory>(sp => sp.GetRequiredService<Continuous.DeltaHistory>());
        services.AddSingleton<Continuous.ContinuousBackupService>();
        services.AddHostedService(sp => sp.GetRequiredService<Continuous.ContinuousBackupService>());

        // Restore drills (decision record 0034): one worker per console, after backups and on demand.
        services.AddSingleton<Drills.DrillService>();
        services.AddSingleton<Drills.IRestoreDrills>(sp => sp.GetRequiredService<Drills.DrillService>());
        services.AddHostedService(sp => sp.GetRequiredService<Drills.DrillService>());
        return services;
    }

    /// <summary>The backup subsystem's metrics (exported at /metrics by the web host).</summary>
    private static IServiceCollection AddBackupMetrics(this IServiceCollection services)
    {
        services.AddSingleton<Metrics.BackupMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<Metrics.BackupMetrics>());
        return services;
    }

    /// <summary>Alerts (decision record 0035): conditions from the status table, drills and restores; delivery with an outbox.</summary>
    private static IServiceCollection AddAlerts(this IServiceCollection services)
    {
        services.AddSingleton<AlertStore>();
        services.AddSingleton<Alerts.AlertSender>();
        services.AddSingleton<Alerts.IAlertFacts, Alerts.AlertFactsReader>();
        services.AddSingleton<Alerts.AlertService>();
        services.AddHostedService(sp => sp.GetRequiredService<Alerts.AlertService>());
        return services;
    }

    /// <summary>The restore wizard: the order of steps, one control per kind of member, one owner of the staging area, one journal that runs every action.</summary>
    private static IServiceCollection AddRestore(this IServiceCollection services)
    {
        services.AddSingleton(new Restore.RestoreExecutor(TimeSpan.FromMinutes(10)));
        services.AddSingleton<Restore.IMemberControl, Restore.ManagedMemberControl>();
        services.AddSingleton<Restore.IMemberControl, Restore.CommandMemberControl>();
        services.AddSingleton<Restore.IMemberControl, Restore.ManualMemberControl>();
        services.AddSingleton<Restore.MemberControls>();
        services.AddSingleton<Restore.RestoreStaging>();
        services.AddSingleton<Restore.RestoreJournal>();
        services.AddSingleton<Restore.RestoreWizard>();
        // A factory, so a host without continuous capture registered (IDeltaHistory) still passes ValidateOnBuild.
        services.AddSingleton<Continuous.IPointInTimeBuilder>(sp => ActivatorUtilities.CreateInstance<Continuous.PointInTimeBuilder>(sp));
        return services;
    }

    private static IServiceCollection AddScheduling(this IServiceCollection services, IConfiguration configuration)
    {
        var scheduler = configuration.GetSection($"{ConsoleSettings.SectionName}:Scheduler").Get<SchedulerSettings>() ?? new SchedulerSettings();
        var dataDir = Path.GetFullPath(configuration[$"{ConsoleSettings.SectionName}:DataDir"] ?? "data");
        var database = configuration.GetSection($"{ConsoleSettings.SectionName}:Database").Get<DatabaseSettings>() ?? new DatabaseSettings();
        services.AddHangfireScheduling(scheduler, database, dataDir);
        services.AddSingleton<BackupScheduler>();
        services.AddHostedService<SchedulerStartup>();
        services.AddSingleton<StorageHealthMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageHealthMonitor>());
        services.AddSingleton<ReverificationService>();
        services.AddHostedService(sp => sp.GetRequiredService<ReverificationService>());
        services.AddSingleton<BackupStatusService>();
        return services;
    }

    private static IServiceCollection AddEtcd(this IServiceCollection services)
    {
        services.AddSingleton<EtcdClusterClientFactory>();
        services.AddSingleton<ClusterCatalog>();
        return services;
    }

    private static IServiceCollection AddSandbox(this IServiceCollection services, IConfiguration configuration)
    {
        // Registered before the status monitor so the sandbox is up (and in the catalog) when polling begins.
        if (configuration.GetValue<bool>($"{ConsoleSettings.SectionName}:Sandbox:Enabled"))
        {
            services.AddSingleton<SandboxCluster>();
            services.AddHostedService(sp => sp.GetRequiredService<SandboxCluster>());
        }

        return services;
    }

    private static IServiceCollection AddClusterStatus(this IServiceCollection services)
    {
        services.AddSingleton<ClusterProbe>();
        services.AddSingleton<ClusterStatusBoard>();
        services.AddHostedService<ClusterStatusMonitor>();
        return services;
    }
}
