using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Scheduling;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Metrics;

/// <summary>
/// The backup subsystem's metrics, named in the field's style (Prometheus names, exported at <c>/metrics</c> through
/// OpenTelemetry). Gauges read a view of the status table refreshed every 15 s and after every backup this console
/// ran; the duration histogram and the failure counter count the runs of this console process only, so summing them
/// over replicas counts each run once.
/// </summary>
public sealed partial class BackupMetrics : BackgroundService
{
    public const string MeterName = "EtcdBackupConsole";
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(15);

    private readonly BackupStatusService _status;
    private readonly StorageHealthMonitor _storage;
    private readonly BackupProgressFeed _feed;
    private readonly Persistence.DrillLedger _drills;
    private readonly Drills.IRestoreDrills _drillService;
    private readonly Replicas.ReplicaIdentity _replica;
    private readonly TimeProvider _clock;
    private readonly ILogger<BackupMetrics> _logger;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _failures;
    private readonly SemaphoreSlim _refreshNow = new(0);
    private volatile IReadOnlyList<BackupStatusRow> _rows = [];
    private volatile IReadOnlyList<DrillVerdict> _drillsPassed = [];
    private readonly ConcurrentDictionary<string, long> _lastSize = new(StringComparer.Ordinal);

    public BackupMetrics(IMeterFactory meters, BackupStatusService status, StorageHealthMonitor storage, BackupProgressFeed feed, Persistence.DrillLedger drills, Drills.IRestoreDrills drillService, Replicas.ReplicaIdentity replica, TimeProvider clock, ILogger<BackupMetrics> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        (_status, _storage, _feed, _drills, _drillService, _replica, _clock, _logger) = (status, storage, feed, drills, drillService, replica, clock, logger);
        var meter = meters.Create(MeterName);
        _duration = meter.CreateHistogram<double>("etcd_backup_duration_seconds", description: "Time from a backup's start to its recorded outcome, by cluster, target and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] });
        _failures = meter.CreateCounter<long>("etcd_backup_failures", description: "Backups that failed or were interrupted, by cluster and reason.");
        meter.CreateObservableGauge("etcd_backup_last_success_timestamp_seconds", LastSuccess, description: "Unix time of the newest successful backup, by cluster and target.");
        meter.CreateObservableGauge("etcd_backup_size_bytes", Sizes, description: "Size of the newest successful snapshot this console took, by cluster.");
        meter.CreateObservableGauge("etcd_backup_rpo_seconds", Rpo, description: "Continuous backup: now minus the newest durable time, by cluster.");
        meter.CreateObservableGauge("etcd_backup_consecutive_failures", ConsecutiveFailures, description: "Failed attempts since the last success, by cluster.");
        meter.CreateObservableGauge("etcd_backup_stale", Stale, description: "1 when the cluster's last success is too old or its recoverable window fell behind (as the status table marks it Stale), else 0.");
        meter.CreateObservableGauge("etcd_backup_storage_healthy", StorageHealthy, description: "1 when the target took a probe write at its last check, else 0.");
        meter.CreateObservableGauge("etcd_backup_drill_last_success_timestamp_seconds", DrillLastSuccess, description: "Unix time the newest passed restore drill finished, by cluster and target.");
        meter.CreateObservableGauge("etcd_backup_drill_rto_seconds", DrillRto, description: "Time from fetch to a serving member in the newest passed restore drill, by cluster and target.");
    }

    /// <summary>Reads the status table now (tests and the first scrape after a backup see it at once).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        _rows = await _status.GetAsync(cancellationToken).ConfigureAwait(false);
        _drillsPassed = await _drills.LatestPassedByTargetAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = _feed.Subscribe(OnProgress);
        _drillService.Changed += OnDrillChanged;
        using var unsubscribe = new Unsubscriber(() => _drillService.Changed -= OnDrillChanged);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogRefreshFailed(_logger, ex);
            }

            try
            {
                await _refreshNow.WaitAsync(RefreshEvery, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void OnProgress(BackupProgress progress)
    {
        if (!progress.IsFinished || progress.Relayed || progress.Final is not { } record || (record.Replica is { } replica && replica != _replica.Name))
        {
            return;
        }

        var outcome = record.Status switch
        {
            BackupStatus.Succeeded => "success",
            BackupStatus.PartiallySucceeded => "partial",
            BackupStatus.Interrupted => "interrupted",
            _ => "failure",
        };
        var seconds = ((record.FinishedAt ?? _clock.GetUtcNow()) - record.StartedAt).TotalSeconds;
        foreach (var target in Targets(record))
        {
            _duration.Record(seconds, new("cluster", record.Cluster), new("target", target), new("outcome", outcome));
        }

        if (record.Status is BackupStatus.Failed or BackupStatus.Interrupted)
        {
            _failures.Add(1, new KeyValuePair<string, object?>("cluster", record.Cluster), new("reason", Reason(record)));
        }
        else if (record.SizeBytes is { } size)
        {
            _lastSize[record.Cluster] = size;
        }

        _refreshNow.Release();
    }

    // A drill ended (or changed phase): the gauges read the ledger again, off the drill's thread.
    private void OnDrillChanged()
    {
        if (_drillService.Current is null)
        {
            _refreshNow.Release();
        }
    }

    private sealed class Unsubscriber(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>A short, bounded label: where the failure came from, never the message itself (labels must stay few).</summary>
    internal static string Reason(BackupRecord record)
    {
        var error = record.Error ?? string.Empty;
        return record.Status == BackupStatus.Interrupted ? "interrupted"
            : error.Contains("no target", StringComparison.OrdinalIgnoreCase) || error.Contains("storage", StringComparison.OrdinalIgnoreCase) ? "storage"
            : error.Contains("member", StringComparison.OrdinalIgnoreCase) || error.Contains("etcd", StringComparison.OrdinalIgnoreCase) || error.Contains("endpoint", StringComparison.OrdinalIgnoreCase) ? "etcd"
            : "other";
    }

    private static string[] Targets(BackupRecord record) =>
        record.Targets.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } targets ? targets : ["none"];

    private IEnumerable<Measurement<double>> LastSuccess() =>
        _rows.Where(r => r.Health.LastSuccessAt is not null)
            .SelectMany(r => (r.Storage.Count == 0 ? ["local"] : r.Storage.Select(s => s.Target)).Select(target =>
                new Measurement<double>(r.Health.LastSuccessAt!.Value.ToUnixTimeMilliseconds() / 1000.0, new("cluster", r.Health.Cluster), new("target", target))));

    private IEnumerable<Measurement<long>> Sizes() =>
        _lastSize.Select(s => new Measurement<long>(s.Value, new KeyValuePair<string, object?>("cluster", s.Key)));

    private IEnumerable<Measurement<double>> Rpo()
    {
        var now = _clock.GetUtcNow();
        return _rows.Where(r => r.Health.Continuous?.Window.NewestDurableTime is not null)
            .Select(r => new Measurement<double>((now - r.Health.Continuous!.Window.NewestDurableTime!.Value).TotalSeconds, new KeyValuePair<string, object?>("cluster", r.Health.Cluster)));
    }

    private IEnumerable<Measurement<int>> ConsecutiveFailures() =>
        _rows.Select(r => new Measurement<int>(r.Health.ConsecutiveFailures, new KeyValuePair<string, object?>("cluster", r.Health.Cluster)));

    private IEnumerable<Measurement<int>> Stale() =>
        _rows.Select(r => new Measurement<int>(r.Health.Stale || r.Health.Continuous?.Alert == true ? 1 : 0, new KeyValuePair<string, object?>("cluster", r.Health.Cluster)));

    private IEnumerable<Measurement<int>> StorageHealthy() =>
        _storage.Current.Select(s => new Measurement<int>(s.Value.Ok ? 1 : 0, new KeyValuePair<string, object?>("target", s.Key)));

    private IEnumerable<Measurement<double>> DrillLastSuccess() =>
        _drillsPassed.Where(d => d.FinishedAt is not null)
            .Select(d => new Measurement<double>(d.FinishedAt!.Value.ToUnixTimeMilliseconds() / 1000.0, new("cluster", d.Cluster), new("target", d.Target)));

    private IEnumerable<Measurement<double>> DrillRto() =>
        _drillsPassed.Where(d => d.Rto is not null)
            .Select(d => new Measurement<double>(d.Rto!.Value.TotalSeconds, new("cluster", d.Cluster), new("target", d.Target)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backup metrics could not read the status table; the gauges keep their last values")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
