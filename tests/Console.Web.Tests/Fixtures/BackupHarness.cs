using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Console.Infrastructure.Sealing;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Fixtures;

/// <summary>The real backup runner, local store and SQLite records in a temp data dir, pointed at a test etcd cluster.</summary>
public sealed class BackupHarness : IDisposable
{
    private readonly TestDirectory _data = new("backups");
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILoggerFactory _logs;

    /// <param name="s3Settings">Changes to s3rver's settings (Object Lock, encryption).</param>
    /// <param name="s3Http">The S3 client's HTTP (a <see cref="RecordingS3Http"/>), or null for the SDK's own.</param>
    /// <param name="identityFiles">Console:Encryption:IdentityFiles, to open sealed copies.</param>
    public BackupHarness(ClusterSpec cluster, Func<EtcdSettings, EtcdSettings>? etcd = null, S3rver? s3 = null,
        Func<S3StorageSettings, S3StorageSettings>? s3Settings = null, Amazon.Runtime.HttpClientFactory? s3Http = null, IReadOnlyList<string>? identityFiles = null)
    {
        _logs = LoggerFactory.Create(b => b.AddProvider(Log));
        Settings = Options.Create(new ConsoleSettings
        {
            DataDir = _data.Path,
            Etcd = etcd?.Invoke(new EtcdSettings()) ?? new EtcdSettings(),
            Storage = new StorageSettings { S3 = s3 is null ? new S3StorageSettings() : s3Settings?.Invoke(s3.Settings) ?? s3.Settings },
            Encryption = new IdentitySettings { IdentityFiles = identityFiles ?? [] },
        });
        Catalog = new ClusterCatalog(Settings);
        Catalog.Register(cluster);
        Cluster = cluster;
        Clients = new EtcdClusterClientFactory(Settings);
        Store = new LocalSnapshotStore(Settings);
        Database = new ConsoleDatabase(Settings);
        Database.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        Records = new BackupRecordStore(Database);
        Ledger = new SnapshotLedger(Database);
        S3 = s3 is null ? null : new S3SnapshotStore(Settings, s3Http);
        Stores = new SnapshotStores(S3 is null ? [Store] : [Store, S3]);
        Audit = new AuditLog(Database, TimeProvider.System);
        Guard = new AccessGuard(new UserStore(Database), new ApiTokenStore(Database), Audit, NullLogger<AccessGuard>.Instance);
        StorageHealth = new StorageHealthMonitor(Stores, Settings, TimeProvider.System);
        Progress = new BackupProgressFeed(new Logger<BackupProgressFeed>(_logs));
        Replica = new ReplicaIdentity(Settings, new ConfigurationBuilder().Build(), TimeProvider.System);
        Runner = new BackupRunner(Catalog, Clients, Stores, Records, Ledger, Settings, TimeProvider.System, new Lifetime(_stopping.Token), Guard, StorageHealth, Progress, Replica, new ClusterBackupLocks(Database), new BackupSuspensions(new RestoreSessionStore(Database)), new Logger<BackupRunner>(_logs));
        Keys = new SealingKeys(Settings);
        Opener = new SnapshotOpener(Keys);
        Drills = new DrillLedger(Database);
        Snapshots = new SnapshotCatalog(Stores, Ledger, Drills, Records, TimeProvider.System, Guard, Opener, Keys);
    }

    public IOptions<ConsoleSettings> Settings { get; }
    public SealingKeys Keys { get; }
    public SnapshotOpener Opener { get; }
    public ClusterSpec Cluster { get; }
    public ClusterCatalog Catalog { get; }
    public EtcdClusterClientFactory Clients { get; }
    public LocalSnapshotStore Store { get; }
    public ConsoleDatabase Database { get; }
    public BackupRecordStore Records { get; }
    public BackupRunner Runner { get; }
    public ReplicaIdentity Replica { get; }

    /// <summary>This harness's replica monitor (heartbeat and sweeper), not started.</summary>
    public ReplicaMonitor Monitor => new(Replica, new ReplicaStore(Database), Records, Database, Settings, TimeProvider.System, NullLogger<ReplicaMonitor>.Instance);
    public BackupProgressFeed Progress { get; }
    public SnapshotLedger Ledger { get; }
    public DrillLedger Drills { get; }
    public S3SnapshotStore? S3 { get; }
    public SnapshotStores Stores { get; }
    public SnapshotCatalog Snapshots { get; }
    public StorageHealthMonitor StorageHealth { get; }

    /// <summary>What the runner logged (warnings included).</summary>
    public LogSink Log { get; } = new();
    public AuditLog Audit { get; }
    public AccessGuard Guard { get; }

    public UploadRetryService Retry() =>
        new(Stores, Ledger, Records, Progress, Settings, TimeProvider.System, NullLogger<UploadRetryService>.Instance);
    public string DataDir => _data.Path;

    public Task<Console.Domain.Backups.BackupRecord> BackupAsync() =>
        Runner.RunAsync(Cluster.Name.Value, Console.Domain.Backups.BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));

    /// <summary>Writes <paramref name="megabytes"/> MiB of values so a snapshot takes a while to stream.</summary>
    public async Task FillAsync(int megabytes)
    {
        var client = Clients.For(Cluster);
        var value = new string('v', 512 * 1024);
        await Parallel.ForAsync(0, megabytes * 2, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            await client.PutAsync(Cluster.Endpoints[0], $"/fill/{i:D5}", value, ct));
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
        _logs.Dispose();
        Clients.Dispose();
        S3?.Dispose();
        _data.Dispose();
    }

    private sealed class Lifetime(CancellationToken stopping) : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => stopping;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication()
        {
        }
    }
}
