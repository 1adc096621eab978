using System.Diagnostics;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Drills;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Console.Infrastructure.Restore;
using Console.Infrastructure.Sealing;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Console.Bench;

/// <summary>The job the product's <see cref="SnapshotPipeline"/> runs, with a manifest carrying what the benchmark knows.</summary>
internal static class BenchJob
{
    public static SnapshotJob For(EtcdClusterClient client, Uri endpoint, SnapshotName name, IReadOnlyList<string> targets, DateTimeOffset startedAt) =>
        new(client, endpoint, name, targets, SnapshotOptions.Default, (result, finishedAt) => new SnapshotManifest
        {
            Cluster = name.Cluster.Value,
            FileName = name.FileName,
            Revision = result.Revision,
            SizeBytes = result.Size,
            Sha256 = result.Sha256,
            Trigger = "Benchmark",
            StartedAt = startedAt,
            FinishedAt = finishedAt,
        });
}

/// <summary>
/// The console's snapshot path alone: a client for the cluster, then the product's <see cref="SnapshotPipeline"/> into
/// the local store (stream, verify, .part file, fsync, rename, directory fsync, manifest). Timed from creating the
/// client (so connection set-up counts, as it does for etcdctl) to the manifest being durable.
/// </summary>
internal sealed class ConsoleSnapshotPath(ClusterSpec spec, Uri endpoint, LocalSnapshotStore store)
{
    private readonly SnapshotPipeline _pipeline = new(new SnapshotStores([store]), TimeProvider.System);

    public async Task<SnapshotFile> RunAsync(CancellationToken cancellationToken)
    {
        var name = SnapshotName.For(spec.Name, DateTimeOffset.UtcNow);
        var clock = Stopwatch.StartNew();
        var streamed = TimeSpan.Zero;
        using (var client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5)))
        {
            await _pipeline.RunAsync(BenchJob.For(client, endpoint, name, [store.Target], DateTimeOffset.UtcNow), new LatestProgress(), () => streamed = clock.Elapsed, cancellationToken);
        }

        clock.Stop();
        return SnapshotFile.Read(clock.Elapsed.TotalSeconds, store.PathOf(name), Path.Combine(store.Directory, name.ManifestFileName)) with { StreamSeconds = streamed.TotalSeconds };
    }
}

/// <summary>
/// What an operator waits for: the product's whole <see cref="BackupRunner"/> run, as a request through the API starts
/// it (an Operator API token, audited), to the finished record: the record inserted, the member chosen, the snapshot
/// through the pipeline into the local store, the copies recorded, the retention pass, the storage re-check and the
/// record updated. The runner is built as the console builds it, on a SQLite database of its own under the data
/// directory. Each snapshot (and its manifest) is deleted afterwards, as the paired runs' files are.
/// </summary>
internal sealed class BackupRunPath : IDisposable
{
    public static readonly Actor Requester = new("bench", Role.Operator, ActorKind.ApiToken);
    private readonly EtcdClusterClientFactory _clients;
    private readonly LocalSnapshotStore _store;
    private readonly BackupRunner _runner;
    private readonly BackupProgressFeed _progress;
    private readonly ClusterSpec _spec;

    private BackupRunPath(ClusterSpec spec, EtcdClusterClientFactory clients, LocalSnapshotStore store, BackupRunner runner, BackupProgressFeed progress)
    {
        _progress = progress;
        _spec = spec;
        _clients = clients;
        _store = store;
        _runner = runner;
    }

    public static async Task<BackupRunPath> CreateAsync(ClusterSpec spec, ConsoleSettings consoleSettings, CancellationToken cancellationToken)
    {
        var console = await BenchConsole.CreateAsync(spec, consoleSettings, cancellationToken);
        return new BackupRunPath(spec, console.Clients, console.Store, console.Runner, console.Progress);
    }

    public async Task<SnapshotFile> RunAsync(CancellationToken cancellationToken)
    {
        var phases = new List<(string Phase, double Seconds)>();
        var clock = Stopwatch.StartNew();
        void OnProgress(BackupProgress run)
        {
            var phase = run.Phase.ToString();
            if (phases.Count == 0 || phases[^1].Phase != phase)
            {
                phases.Add((phase, clock.Elapsed.TotalSeconds));
            }
        }

        BackupRecord record;
        using (_progress.Subscribe(OnProgress))
        {
            record = await _runner.RunAsync(_spec.Name.Value, BackupTrigger.Manual, Requester, cancellationToken);
        }

        clock.Stop();
        if (record.Status != BackupStatus.Succeeded || record.FileName is not { } fileName)
        {
            throw new InvalidOperationException($"the backup run ended {record.Status}: {record.Error}");
        }

        if (!SnapshotName.TryParse(fileName, out var name))
        {
            throw new InvalidOperationException($"the record names {fileName}, which is not a snapshot name");
        }

        var streaming = phases.FirstOrDefault(p => p.Phase == nameof(BackupPhase.Streaming)).Seconds;
        var finalizing = phases.FirstOrDefault(p => p.Phase == nameof(BackupPhase.Finalizing)).Seconds;
        return SnapshotFile.Read(clock.Elapsed.TotalSeconds, _store.PathOf(name), Path.Combine(_store.Directory, name.ManifestFileName)) with
        {
            StreamSeconds = finalizing - streaming,
            RecordSeconds = ((record.FinishedAt ?? record.StartedAt) - record.StartedAt).TotalSeconds,
            Phases = phases,
        };
    }

    public void Dispose() => _clients.Dispose();
}

/// <summary>Like BackupRunner's progress: remembers the latest figures, synchronously, on every message.</summary>
internal sealed class LatestProgress : IProgress<SnapshotProgress>
{
    public SnapshotProgress Latest { get; private set; }

    public void Report(SnapshotProgress value) => Latest = value;
}

/// <summary>
/// The console's backup side built as the console builds it, on a SQLite database of its own under the settings'
/// data directory: the catalog holding one cluster, the local store, the records, the copies ledger and the
/// <see cref="BackupRunner"/>; and, on request, the <see cref="DrillService"/> over the same records and store.
/// </summary>
internal sealed class BenchConsole
{
    private BenchConsole(IOptions<ConsoleSettings> settings, ConsoleDatabase database, ClusterCatalog catalog, LocalSnapshotStore store, EtcdClusterClientFactory clients, ReplicaIdentity replica, AccessGuard guard)
    {
        Settings = settings;
        Database = database;
        Catalog = catalog;
        Store = store;
        Stores = new SnapshotStores([store]);
        Clients = clients;
        Replica = replica;
        Guard = guard;
        Progress = new BackupProgressFeed(NullLogger<BackupProgressFeed>.Instance);
        _opener = new SnapshotOpener(new SealingKeys(settings));
        Staging = new RestoreStaging(Stores, _opener, settings, NullLogger<RestoreStaging>.Instance);
        Runner = new BackupRunner(
            catalog,
            clients,
            Stores,
            new BackupRecordStore(database),
            new SnapshotLedger(database),
            settings,
            TimeProvider.System,
            new Running(),
            guard,
            new StorageHealthMonitor(Stores, settings, TimeProvider.System),
            Progress,
            replica,
            new ClusterBackupLocks(database),
            new BackupSuspensions(new RestoreSessionStore(database)),
            NullLogger<BackupRunner>.Instance);
    }

    private readonly SnapshotOpener _opener;

    public IOptions<ConsoleSettings> Settings { get; }

    public ConsoleDatabase Database { get; }

    public ClusterCatalog Catalog { get; }

    public LocalSnapshotStore Store { get; }

    public SnapshotStores Stores { get; }

    /// <summary>Owned by whoever uses the runner last (BackupRunPath disposes it; so do the drill and continuous cases).</summary>
    public EtcdClusterClientFactory Clients { get; }

    public ReplicaIdentity Replica { get; }

    public AccessGuard Guard { get; }

    public BackupProgressFeed Progress { get; }

    public BackupRunner Runner { get; }

    /// <summary>Fetches a stored copy as a raw snapshot file (opening a sealed one with the settings' identities), as restores and drills do.</summary>
    public RestoreStaging Staging { get; }

    public static async Task<BenchConsole> CreateAsync(ClusterSpec spec, ConsoleSettings consoleSettings, CancellationToken cancellationToken)
    {
        var settings = Options.Create(consoleSettings);
        var catalog = new ClusterCatalog(settings);
        catalog.Register(spec);
        var database = new ConsoleDatabase(settings);
        await database.MigrateAsync(cancellationToken);
        var guard = new AccessGuard(new UserStore(database), new ApiTokenStore(database), new AuditLog(database, TimeProvider.System), NullLogger<AccessGuard>.Instance);
        var replica = new ReplicaIdentity(settings, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(), TimeProvider.System);
        return new BenchConsole(settings, database, catalog, new LocalSnapshotStore(settings), new EtcdClusterClientFactory(settings), replica, guard);
    }

    /// <summary>
    /// The product's drill service over this console's records and store, as the console builds it (copies opened with
    /// the identities in the settings). Not started: the benchmark runs drills itself through <see cref="DrillService.RunAsync"/>,
    /// so none is queued after the benchmark's own backups.
    /// </summary>
    public DrillService Drills() =>
        new(
            Catalog,
            Stores,
            Staging,
            new DrillLedger(Database),
            new BackupRecordStore(Database),
            new SnapshotLedger(Database),
            new DeltaHistory(Catalog, new DeltaLedger(Database), Stores, _opener),
            Guard,
            Progress,
            Replica,
            Settings,
            TimeProvider.System,
            NullLogger<DrillService>.Instance);

    /// <summary>The benchmark never stops the runner mid-run: its runs are awaited to the end.</summary>
    private sealed class Running : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
