using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Console.Infrastructure.Restore;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Drills;

/// <summary>One stored copy to drill, and who asked.</summary>
public sealed record DrillJob(SnapshotName Name, string Target, long? BackupId, string RequestedBy);

/// <summary>
/// Runs restore drills (ADR 0034) one at a time per console: queued after every Nth successful full snapshot for each
/// copy it stored, and on demand. A drill fetches the copy as stored (opening it as a restore would), checks its
/// footer and sha256 against the record, restores it with the restore tool into <c>DataDir/drills/&lt;id&gt;</c>,
/// starts a throwaway etcd on free loopback ports (the wizard's <see cref="SnapshotInspector"/> path), and checks
/// revision, key count, canary and, in continuous mode, the delta chain after the snapshot. Staging and the etcd
/// process go after every outcome; at start-up what a killed console left behind is cleaned up.
/// </summary>
public sealed partial class DrillService(
    ClusterCatalog catalog,
    SnapshotStores stores,
    RestoreStaging staging,
    DrillLedger ledger,
    BackupRecordStore records,
    SnapshotLedger copies,
    IDeltaHistory history,
    AccessGuard guard,
    BackupProgressFeed feed,
    ReplicaIdentity replica,
    IOptions<ConsoleSettings> settings,
    TimeProvider clock,
    ILogger<DrillService> logger) : BackgroundService, IRestoreDrills
{
    public const string StoppedReason = "the console stopped during this drill";

    /// <summary>Staging needs room for the fetched copy, the restored data dir and etcd's own files: about 3x the raw size.</summary>
    private const int SpaceFactor = 3;

    private readonly Channel<DrillJob> _queue = Channel.CreateUnbounded<DrillJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(string FileName, string Target), bool> _queued = new();
    private readonly ConcurrentDictionary<long, bool> _seenRecords = new();
    private readonly ConcurrentDictionary<string, long> _successes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private volatile DrillProgress? _current;

    public DrillProgress? Current => _current;

    public event Action? Changed;

    /// <summary>Where drills stage their copies and restored members.</summary>
    public string Root => Path.Combine(Path.GetFullPath(settings.Value.DataDir), "drills");

    /// <summary>Drills queued and not yet started.</summary>
    public int Queued => _queued.Count;

    public Task<DrillRequest> RequestAsync(SnapshotName name, string target, Actor by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(by);
        return guard.AuditedAsync(
            by,
            Role.Operator,
            AuditActions.Drill,
            name.Cluster.Value,
            $"{name.FileName} in {target}",
            () => Task.FromResult(Enqueue(new DrillJob(name, target, null, by.Label))),
            request => (request.Accepted ? AuditOutcome.Succeeded : AuditOutcome.Failed, request.Message),
            cancellationToken);
    }

    private DrillRequest Enqueue(DrillJob job)
    {
        if (catalog.Find(job.Name.Cluster.Value) is null)
        {
            return new(false, $"there is no cluster named '{job.Name.Cluster.Value}'");
        }

        if (stores.Find(job.Target) is null)
        {
            return new(false, $"the {job.Target} target is not configured");
        }

        var ahead = _queued.Count + (_current is null ? 0 : 1);
        if (!_queued.TryAdd((job.Name.FileName, job.Target), true))
        {
            return new(false, $"a drill of {job.Name.FileName} in {job.Target} is already queued");
        }

        _queue.Writer.TryWrite(job);
        return new(true, ahead == 0 ? $"drill of {job.Name.FileName} in {job.Target} queued; it starts now" : $"drill of {job.Name.FileName} in {job.Target} queued behind {ahead} other drill(s)");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await CleanUpAsync(stoppingToken).ConfigureAwait(false);
        using var subscription = feed.Subscribe(OnBackupProgress);
        try
        {
            await foreach (var job in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                _queued.TryRemove((job.Name.FileName, job.Target), out _);
                try
                {
                    await RunAsync(job, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogDrillCrashed(logger, job.Name.FileName, job.Target, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// What a console killed during a drill left: this replica's Running verdicts become Failed, the staging area is
    /// emptied, and any etcd still running on a data dir under it (orphaned by a kill -9) is killed.
    /// </summary>
    public async Task CleanUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            var failed = await ledger.FailRunningAsync(replica.Name, StoppedReason, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            var killed = KillOrphans(Root);
            if (Directory.Exists(Root))
            {
                foreach (var dir in Directory.EnumerateDirectories(Root))
                {
                    SnapshotInspector.DeleteScratch(dir);
                }
            }

            if (failed > 0 || killed > 0)
            {
                LogCleanedUp(logger, failed, killed);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCleanUpFailed(logger, ex);
        }
    }

    /// <summary>Kills every process whose command line has <c>--data-dir</c> under <paramref name="root"/>; returns how many.</summary>
    internal static int KillOrphans(string root)
    {
        var orphans = ProcessesUnder(root);
        foreach (var pid in orphans)
        {
            EtcdProcess.KillPid(pid);
        }

        return orphans.Count;
    }

    /// <summary>The processes (from /proc/*/cmdline) running with <c>--data-dir</c> under <paramref name="root"/>.</summary>
    internal static IReadOnlyList<int> ProcessesUnder(string root)
    {
        if (!Directory.Exists("/proc"))
        {
            return [];
        }

        var prefix = Path.GetFullPath(root).TrimEnd('/') + "/";
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            string[] arguments;
            try
            {
                arguments = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            for (var i = 0; i + 1 < arguments.Length; i++)
            {
                if (arguments[i] == "--data-dir" && Path.GetFullPath(arguments[i + 1]).StartsWith(prefix, StringComparison.Ordinal))
                {
                    found.Add(pid);
                    break;
                }
            }
        }

        return found;
    }

    private void OnBackupProgress(BackupProgress progress)
    {
        if (!progress.IsFinished || progress.Relayed || progress.Final is not { } record
            || record.Status is not (BackupStatus.Succeeded or BackupStatus.PartiallySucceeded) || record.FileName is null
            || (record.Replica is { } by && by != replica.Name) || !_seenRecords.TryAdd(record.Id, true))
        {
            return;
        }

        if (catalog.Find(record.Cluster) is not { } spec || !spec.Backup.Drill.DrillsSnapshot(_successes.AddOrUpdate(record.Cluster, 1, (_, n) => n + 1)))
        {
            return;
        }

        _ = Task.Run(() => EnqueueCopiesAsync(record), CancellationToken.None);
    }

    private async Task EnqueueCopiesAsync(BackupRecord record)
    {
        try
        {
            if (!SnapshotName.TryParse(record.FileName!, out var name))
            {
                return;
            }

            foreach (var copy in await copies.CopiesAsync(record.Id, CancellationToken.None).ConfigureAwait(false))
            {
                if (copy.Status == CopyStatus.Stored)
                {
                    Enqueue(new DrillJob(name, copy.Target, record.Id, "system"));
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogEnqueueFailed(logger, record.Id, ex);
        }
    }

    /// <summary>Runs one drill now (after any drill already running) and returns its verdict, as recorded.</summary>
    public async Task<DrillVerdict> RunAsync(DrillJob job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await DrillAsync(job, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _current = null;
            _oneAtATime.Release();
            RaiseChanged();
        }
    }

    private async Task<DrillVerdict> DrillAsync(DrillJob job, CancellationToken cancellationToken)
    {
        var name = job.Name;
        var store = stores.Find(job.Target);
        SnapshotManifest? manifest = null;
        string? early = null;
        try
        {
            manifest = store is null ? null : await store.ReadManifestAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            early = $"its manifest could not be read: {ex.Message}";
        }

        var backupId = job.BackupId ?? manifest?.RecordId;
        var record = backupId is { } id ? await records.GetAsync(id, cancellationToken).ConfigureAwait(false) : null;
        var started = clock.GetUtcNow();
        var verdict = new DrillVerdict
        {
            BackupId = record?.Id,
            Cluster = name.Cluster.Value,
            FileName = name.FileName,
            Target = job.Target,
            StartedAt = started,
            Replica = replica.Name,
            RequestedBy = job.RequestedBy,
        };
        verdict = verdict with { Id = await ledger.StartAsync(verdict, cancellationToken).ConfigureAwait(false) };
        LogStarted(logger, verdict.Id, name.FileName, job.Target);

        var dir = Path.Combine(Root, verdict.Id.ToString(CultureInfo.InvariantCulture));
        var findings = new Findings();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timeout = settings.Value.Restore.DrillTimeout;
        limit.CancelAfter(timeout);
        try
        {
            if (store is null)
            {
                throw new DrillFailure($"the {job.Target} target is not configured");
            }

            if (early is not null)
            {
                throw new DrillFailure(early);
            }

            await CheckAsync(job, store, manifest, record, dir, findings, limit.Token).ConfigureAwait(false);
            verdict = findings.Apply(verdict) with { Outcome = DrillOutcome.Passed, Reason = findings.Summary() };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            verdict = findings.Apply(verdict) with { Outcome = DrillOutcome.Failed, Reason = $"the drill did not finish within {timeout} (Console:Restore:DrillTimeout) while {findings.Phase}; it was stopped" };
        }
        catch (OperationCanceledException)
        {
            verdict = findings.Apply(verdict) with { Outcome = DrillOutcome.Failed, Reason = StoppedReason };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever a damaged or altered copy makes the opener, the tool or etcd throw is the drill's finding.
            verdict = findings.Apply(verdict) with { Outcome = DrillOutcome.Failed, Reason = $"{findings.Phase}: {ex.Message}" };
        }
        finally
        {
            SnapshotInspector.DeleteScratch(dir);
        }

        verdict = verdict with { FinishedAt = clock.GetUtcNow() };
        await ledger.FinishAsync(verdict, CancellationToken.None).ConfigureAwait(false);
        LogFinished(logger, verdict.Id, name.FileName, job.Target, verdict.Outcome, verdict.Reason ?? string.Empty);
        return verdict;
    }

    private async Task CheckAsync(DrillJob job, ISnapshotStore store, SnapshotManifest? manifest, BackupRecord? record, string dir, Findings findings, CancellationToken cancellationToken)
    {
        var name = job.Name;
        var expectedSha = record?.Sha256 ?? manifest?.Sha256;
        var expectedRevision = record?.Revision ?? manifest?.Revision;
        var rawSize = manifest?.SizeBytes ?? record?.SizeBytes ?? 0;

        Phase(job, findings, "checking free space");
        Directory.CreateDirectory(dir);
        var free = new DriveInfo(dir).AvailableFreeSpace;
        if (rawSize * SpaceFactor > free)
        {
            throw new DrillFailure($"{dir} has {free:N0} bytes free, less than {SpaceFactor}x the snapshot's {rawSize:N0} bytes it needs; nothing was fetched");
        }

        var watch = Stopwatch.StartNew();
        Phase(job, findings, "fetching");
        var staged = Path.Combine(dir, name.RawFileName);
        await staging.FetchRawAsync(store, name, staged, null, cancellationToken).ConfigureAwait(false);

        var etcd = settings.Value.Sandbox.EtcdBinary;
        var tool = RestoreStaging.DetectTool();
        Phase(job, findings, "checking the footer");
        var member = await SnapshotInspector.StartRestoredAsync(staged, etcd, tool.Name, settings.Value.Restore.InspectTimeout, logger, cancellationToken, phase => Phase(job, findings, phase)).ConfigureAwait(false);
        await using (member.ConfigureAwait(false))
        {
            findings.Rto = watch.Elapsed;
            var contents = member.Contents;
            findings.Revision = contents.Revision;
            findings.KeyCount = contents.KeyCount;
            findings.Checks.Add("footer ok");

            Phase(job, findings, "checking");
            if (expectedSha is null)
            {
                findings.Checks.Add("no recorded sha256 to compare");
            }
            else if (!string.Equals(expectedSha, contents.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new DrillFailure($"the copy's sha256 {contents.Sha256} differs from the record's {expectedSha}");
            }
            else
            {
                findings.Checks.Add("sha256 matches the record");
            }

            if (expectedRevision is { } minimum && contents.Revision < minimum)
            {
                throw new DrillFailure($"the restored member is at revision {contents.Revision}, below the {minimum} read just before the snapshot");
            }

            findings.Checks.Add(string.Create(CultureInfo.InvariantCulture, $"revision {contents.Revision}{(expectedRevision is { } r ? $" (record: {r})" : string.Empty)}"));
            findings.Checks.Add(string.Create(CultureInfo.InvariantCulture, $"{contents.KeyCount} keys"));

            findings.Canary = await CheckCanaryAsync(member, name, manifest, record, cancellationToken).ConfigureAwait(false);
            findings.Checks.Add("canary " + findings.Canary);

            if (catalog.Find(name.Cluster.Value) is { Backup.Continuous.Enabled: true })
            {
                Phase(job, findings, "replaying");
                findings.Deltas = await CheckDeltasAsync(name, staged, dir, contents.Revision, cancellationToken).ConfigureAwait(false);
                findings.Checks.Add(findings.Deltas);
            }
        }
    }

    private static async Task<string> CheckCanaryAsync(RestoredMember member, SnapshotName name, SnapshotManifest? manifest, BackupRecord? record, CancellationToken cancellationToken)
    {
        if (manifest?.CanarySkipped is { } skipped)
        {
            return $"skipped: {skipped}";
        }

        var expected = manifest?.RecordId ?? record?.Id;
        if (manifest?.CanaryKey is not { } key || expected is null)
        {
            return "not checked: the copy was taken before the console wrote canaries";
        }

        var value = await member.Client.GetAsync(member.ClientUrl, key, cancellationToken).ConfigureAwait(false);
        return value == Canary.ValueOf(expected.Value)
            ? $"ok ({key} holds record {value})"
            : throw new DrillFailure(value is null
                ? $"the canary {key} is missing from {name.FileName}: the copy is not the snapshot of record {expected}"
                : $"the canary {key} holds {value}, not record {expected}: the copy is not the snapshot of that record");
    }

    /// <summary>
    /// Continuous mode: every delta segment after the snapshot up to the newest durable revision of its span is read
    /// from the targets (checked against its trailer and opened) and replayed onto this copy, as a point-in-time restore
    /// to that revision would (decision record 0034).
    /// </summary>
    private async Task<string> CheckDeltasAsync(SnapshotName name, string staged, string dir, long revision, CancellationToken cancellationToken)
    {
        var window = await history.WindowAsync(name.Cluster, cancellationToken).ConfigureAwait(false);
        if (window.SpanOf(revision) is not { } span || span.ToRevision <= revision)
        {
            return string.Create(CultureInfo.InvariantCulture, $"deltas: none durable after revision {revision} yet");
        }

        // The point-in-time restore's own replay, on the copy this drill fetched: a second throwaway etcd under the
        // drill's staging (so every clean-up of the drill covers it), one txn per source revision up to the target,
        // then the result snapshotted and restored once more to check its revision and key count.
        var scratch = Directory.CreateDirectory(Path.Combine(dir, "replay")).FullName;
        var options = new ReplayOptions(settings.Value.Sandbox.EtcdBinary, RestoreStaging.DetectTool().Name, scratch, TimeSpan.FromMinutes(2), settings.Value.Restore.InspectTimeout);
        ReplayOutcome outcome;
        try
        {
            var segments = history.ReadAsync(name.Cluster, revision, span.ToRevision, null, cancellationToken);
            outcome = await new PointInTimeReplay(options, logger).RunAsync(staged, segments, span.ToRevision, Path.Combine(dir, "replayed.db"), null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PointInTimeException or DeltaSegmentException)
        {
            throw new DrillFailure(string.Create(CultureInfo.InvariantCulture, $"the deltas after revision {revision} do not replay to revision {span.ToRevision}: {ex.Message}"));
        }

        var current = window.Current == span ? "the newest durable revision" : "the end of its span (a break follows)";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"deltas: replayed {outcome.RevisionsReplayed} revision(s) from {outcome.SegmentsReplayed} segment(s) onto revision {outcome.BaseRevision}, reaching {outcome.Revision}, {current}; the result restores with {outcome.KeyCount} keys");
    }

    private void Phase(DrillJob job, Findings findings, string phase)
    {
        findings.Phase = phase;
        _current = new DrillProgress(job.Name.Cluster.Value, job.Name.FileName, job.Target, phase, _current?.StartedAt ?? clock.GetUtcNow());
        RaiseChanged();
    }

    private void RaiseChanged()
    {
        try
        {
            Changed?.Invoke();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogListenerFailed(logger, ex);
        }
    }

    public override void Dispose()
    {
        _oneAtATime.Dispose();
        base.Dispose();
    }

    /// <summary>What a drill found so far (kept on a failure too).</summary>
    private sealed class Findings
    {
        public string Phase { get; set; } = "starting";
        public long? Revision { get; set; }
        public long? KeyCount { get; set; }
        public string? Canary { get; set; }
        public string? Deltas { get; set; }
        public TimeSpan? Rto { get; set; }
        public List<string> Checks { get; } = [];

        public DrillVerdict Apply(DrillVerdict verdict) => verdict with { Revision = Revision, KeyCount = KeyCount, Canary = Canary, Deltas = Deltas, Rto = Rto };

        public string Summary() => string.Join("; ", Checks);
    }

    private sealed class DrillFailure(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drill {DrillId} of {FileName} in {Target} started")]
    private static partial void LogStarted(ILogger logger, long drillId, string fileName, string target);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drill {DrillId} of {FileName} in {Target}: {Outcome} ({Reason})")]
    private static partial void LogFinished(ILogger logger, long drillId, string fileName, string target, DrillOutcome outcome, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Drill of {FileName} in {Target} could not run")]
    private static partial void LogDrillCrashed(ILogger logger, string fileName, string target, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drills after backup {RecordId} could not be queued")]
    private static partial void LogEnqueueFailed(ILogger logger, long recordId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drill start-up clean-up: {Failed} drill(s) left running marked failed, {Killed} orphaned etcd process(es) killed")]
    private static partial void LogCleanedUp(ILogger logger, int failed, int killed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drill start-up clean-up failed")]
    private static partial void LogCleanUpFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A drill progress listener failed")]
    private static partial void LogListenerFailed(ILogger logger, Exception exception);
}
