using System.Collections.Concurrent;
using System.Diagnostics;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Restore;
using Console.Infrastructure.Sandbox;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Continuous;

/// <summary>How a replay runs: the tools, where its throwaway etcd lives, and how long things may take.</summary>
/// <param name="ScratchDir">Parent of the throwaway data dir (deleted afterwards).</param>
/// <param name="UnknownLeaseTtl">TTL (seconds) for a lease a segment names without a known TTL (-1): long enough
/// that it cannot expire in the replay; it is the TTL the lease keeps in the result.</param>
public sealed record ReplayOptions(string EtcdBinary, string RestoreTool, string ScratchDir, TimeSpan StartTimeout, TimeSpan ToolTimeout, long UnknownLeaseTtl = 3600);

/// <summary>What a replay produced at its output path.</summary>
public sealed record ReplayOutcome(long Revision, long BaseRevision, long KeyCount, string Sha256, long SizeBytes, int SegmentsReplayed, long RevisionsReplayed, DateTimeOffset? ReceivedAt);

/// <summary>
/// Rebuilds the state at one revision: restores a base snapshot into a throwaway single-member etcd on loopback,
/// replays delta revisions after the base's own revision (read from the restored etcd, never from a name) one
/// transaction each, checking that etcd gives every transaction the source's revision, keeps every lease alive for
/// the whole replay so none expires and shifts revisions, then snapshots the result, checks it by restoring it once
/// more, and moves it to the output path. The throwaway etcd and its directory are gone afterwards in every case.
/// </summary>
public sealed partial class PointInTimeReplay(ReplayOptions options, ILogger logger)
{
    public async Task<ReplayOutcome> RunAsync(string baseSnapshot, IAsyncEnumerable<DeltaSegment> segments, long targetRevision, string outputPath, IProgress<PointInTimeProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var scratch = Path.Combine(Path.GetFullPath(options.ScratchDir), $"replay-{Guid.NewGuid():N}");
        var part = outputPath + SnapshotName.PartialExtension;
        var ports = FreePorts.Pick(2);
        var layout = new EtcdMemberLayout("replay", ports[0], ports[1], Path.Combine(scratch, "data"));
        var initialCluster = EtcdMemberLayout.InitialCluster([layout]);
        try
        {
            Directory.CreateDirectory(scratch);
            progress?.Report(new PointInTimeProgress("restoring the base snapshot", 0, targetRevision));
            string[] restore = ["snapshot", "restore", baseSnapshot, "--name", layout.Name, "--initial-cluster", initialCluster, "--initial-advertise-peer-urls", layout.PeerUrl.ToString().TrimEnd('/'), "--data-dir", layout.DataDir];
            var run = await ToolProcess.RunAsync(options.RestoreTool, restore, options.ToolTimeout, cancellationToken).ConfigureAwait(false);
            if (run.TimedOut || run.Exit != 0)
            {
                throw new PointInTimeException($"the base snapshot {Path.GetFileName(baseSnapshot)} could not be restored: {(run.TimedOut ? run.Output : ToolOutput.Summary(run.Output))}");
            }

            // 3.4 has no --unsafe-no-fsync; a larger quota keeps a long replay from tripping NOSPACE, and no automatic
            // compaction or snapshots are wanted in a throwaway member.
            await using var member = EtcdProcess.Start(options.EtcdBinary, layout, initialCluster, "replay", ["--quota-backend-bytes", (8L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture), "--snapshot-count", "1000000",
                // A new leader extends every lease by one election timeout before any can expire: at etcd's maximum
                // (50 s) no lease of the base can run out before the keep-alives start, however loaded the machine.
                // A single member elects itself after one heartbeat (its election ticks are fast-forwarded).
                "--heartbeat-interval", "1000", "--election-timeout", "50000"]);
            var spec = new ClusterSpec(ClusterName.Parse("replay"), [layout.ClientUrl], null, null, []);
            using var client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(30));
            var endpoint = layout.ClientUrl;
            var baseRevision = await WaitForLeaderAsync(client, member, cancellationToken).ConfigureAwait(false);
            if (targetRevision < baseRevision)
            {
                throw new PointInTimeException($"the base snapshot {Path.GetFileName(baseSnapshot)} is really at revision {baseRevision}, past the target {targetRevision}: it cannot be rebuilt from this base");
            }

            var leases = new ConcurrentDictionary<long, long>((await client.ListLeasesAsync(endpoint, cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.Id, l => l.GrantedTtl));
            using var replayStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var keeper = KeepLeasesAliveAsync(client, endpoint, leases, replayStop);
            (long Last, int Segments, long Revisions, DateTimeOffset? ReceivedAt) replayed;
            try
            {
                replayed = await ReplayAsync(client, endpoint, segments, baseRevision, targetRevision, leases, progress, replayStop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (keeper.IsFaulted && !cancellationToken.IsCancellationRequested)
            {
                await keeper.ConfigureAwait(false); // throws the keep-alive's failure
                throw;
            }
            finally
            {
                await replayStop.CancelAsync().ConfigureAwait(false);
                await keeper.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }

            if (keeper.IsFaulted)
            {
                throw new PointInTimeException("a lease could not be kept alive during the replay: " + keeper.Exception!.InnerException!.Message);
            }

            if (replayed.Last != targetRevision)
            {
                throw new PointInTimeException($"the delta history ends at revision {replayed.Last}, before the target {targetRevision}");
            }

            progress?.Report(new PointInTimeProgress("verifying", targetRevision, targetRevision));
            var status = await client.StatusAsync(endpoint, cancellationToken).ConfigureAwait(false);
            var keys = await client.CountKeysAsync(endpoint, string.Empty, cancellationToken).ConfigureAwait(false);
            if (status.Revision != targetRevision)
            {
                throw new PointInTimeException($"the rebuilt etcd is at revision {status.Revision}, not the target {targetRevision}: nothing was written");
            }

            await SnapshotToAsync(client, endpoint, part, cancellationToken).ConfigureAwait(false);
            await member.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);

            // The file is checked the way it will be used: restored once more into a fresh throwaway etcd.
            var contents = await SnapshotInspector.InspectAsync(part, options.EtcdBinary, options.RestoreTool, options.ToolTimeout, logger, cancellationToken).ConfigureAwait(false);
            if (contents.Revision != targetRevision || contents.KeyCount != keys)
            {
                throw new PointInTimeException($"the rebuilt snapshot restores to revision {contents.Revision} with {contents.KeyCount} keys, but the replay ended at revision {targetRevision} with {keys} keys: nothing was written");
            }

            File.Move(part, outputPath, overwrite: true);
            FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
            LogBuilt(logger, targetRevision, baseRevision, replayed.Revisions, replayed.Segments);
            return new ReplayOutcome(targetRevision, baseRevision, keys, contents.Sha256, contents.SizeBytes, replayed.Segments, replayed.Revisions, replayed.ReceivedAt);
        }
        catch (EtcdException ex)
        {
            throw new PointInTimeException("the throwaway etcd of the replay failed: " + ex.Message, ex);
        }
        catch (SnapshotIntegrityException ex)
        {
            throw new PointInTimeException("the rebuilt snapshot failed its check: " + ex.Message, ex);
        }
        finally
        {
            TryDelete(part);
            TryDeleteDirectory(scratch);
        }
    }

    private async Task<(long Last, int Segments, long Revisions, DateTimeOffset? ReceivedAt)> ReplayAsync(
        EtcdClusterClient client, Uri endpoint, IAsyncEnumerable<DeltaSegment> segments, long baseRevision, long targetRevision,
        ConcurrentDictionary<long, long> leases, IProgress<PointInTimeProgress>? progress, CancellationToken cancellationToken)
    {
        var last = baseRevision;
        var segmentCount = 0;
        var revisions = 0L;
        DateTimeOffset? receivedAt = null;
        if (targetRevision == baseRevision)
        {
            return (last, 0, 0, null);
        }

        progress?.Report(new PointInTimeProgress("replaying", baseRevision, targetRevision));
        await foreach (var segment in segments.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (segment.LastRevision <= last)
            {
                continue; // entirely at or below the base (overlap is allowed, gaps are not)
            }

            if (segment.FirstRevision > last + 1)
            {
                throw new PointInTimeException($"revisions {last + 1} to {segment.FirstRevision - 1} are missing before segment {SegmentName(segment)}: the history has a gap");
            }

            var applied = false;
            foreach (var revision in segment.Revisions)
            {
                if (revision.Revision <= last)
                {
                    continue;
                }

                if (revision.Revision > targetRevision)
                {
                    break;
                }

                await EnsureLeasesAsync(client, endpoint, segment, revision, leases, cancellationToken).ConfigureAwait(false);
                var got = await client.ApplyRevisionAsync(endpoint, revision.Events, cancellationToken).ConfigureAwait(false);
                if (got != revision.Revision)
                {
                    throw new PointInTimeException($"replaying source revision {revision.Revision} (segment {SegmentName(segment)}) gave revision {got} in the rebuilt etcd: revisions shifted, so the result would not be the source's state; nothing was written");
                }

                last = got;
                receivedAt = revision.ReceivedAt;
                revisions++;
                applied = true;
            }

            if (applied)
            {
                segmentCount++;
                progress?.Report(new PointInTimeProgress("replaying", last, targetRevision));
            }

            if (last >= targetRevision)
            {
                break;
            }
        }

        return (last, segmentCount, revisions, receivedAt);
    }

    private async Task EnsureLeasesAsync(EtcdClusterClient client, Uri endpoint, DeltaSegment segment, DeltaRevision revision, ConcurrentDictionary<long, long> leases, CancellationToken cancellationToken)
    {
        foreach (var e in revision.Events)
        {
            if (e.Kind != DeltaEventKind.Put || e.Lease == 0 || leases.ContainsKey(e.Lease))
            {
                continue;
            }

            var ttl = segment.LeaseTtls.TryGetValue(e.Lease, out var recorded) && recorded > 0 ? recorded : options.UnknownLeaseTtl;
            await client.LeaseGrantAsync(endpoint, e.Lease, ttl, cancellationToken).ConfigureAwait(false);
            leases[e.Lease] = ttl;
        }
    }

    /// <summary>
    /// Renews every lease the replay etcd holds at a quarter of the shortest TTL (at least every 5 s, at most every
    /// 200 ms), looking every 100 ms so a short lease granted mid-replay shortens the interval at once. A lease that
    /// expires anyway would show as a shifted revision on the next transaction.
    /// </summary>
    private static async Task KeepLeasesAliveAsync(EtcdClusterClient client, Uri endpoint, ConcurrentDictionary<long, long> leases, CancellationTokenSource replay)
    {
        var cancellationToken = replay.Token;
        try
        {
            await using var keepAlive = await client.KeepAliveAsync(endpoint, cancellationToken).ConfigureAwait(false);
            var sinceRenewal = Stopwatch.StartNew();
            var renewed = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                // The first renewal goes out at once: a short lease in the base only has its TTL (plus an election
                // timeout) from the moment the throwaway etcd became leader, and on a loaded machine most of it is gone.
                var shortest = leases.IsEmpty ? 20 : leases.Values.Min();
                if (!leases.IsEmpty && (!renewed || sinceRenewal.Elapsed >= TimeSpan.FromMilliseconds(Math.Clamp(shortest * 1000 / 4, 200, 5000))))
                {
                    await keepAlive.RenewAsync(leases.Keys.ToArray(), cancellationToken).ConfigureAwait(false);
                    sinceRenewal.Restart();
                    renewed = true;
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch
        {
            await replay.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<long> WaitForLeaderAsync(EtcdClusterClient client, EtcdProcess member, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var status = await client.StatusAsync(member.Layout.ClientUrl, cancellationToken).ConfigureAwait(false);
                if (status.Leader != 0)
                {
                    return status.Revision;
                }
            }
            catch (EtcdException) when (!member.HasExited && deadline.Elapsed < options.StartTimeout)
            {
            }

            if (member.HasExited || deadline.Elapsed > options.StartTimeout)
            {
                throw new PointInTimeException($"the throwaway etcd on the restored base snapshot did not come up within {options.StartTimeout.TotalSeconds:0} s: {member.LogTail(3)}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task SnapshotToAsync(EtcdClusterClient client, Uri endpoint, string part, CancellationToken cancellationToken)
    {
        var file = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        await using (file.ConfigureAwait(false))
        {
            await client.SnapshotAsync(endpoint, new FileSink(file), null, SnapshotOptions.Default, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }
    }

    private static string SegmentName(DeltaSegment segment) => new DeltaSegmentName(segment.Cluster, segment.FirstRevision, segment.LastRevision).FileName;

    private static void FsyncDirectory(string directory)
    {
        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not every file system lets a directory be opened; the rename itself is still atomic.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    private sealed class FileSink(FileStream file) : ISnapshotSink
    {
        public ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken) => file.WriteAsync(chunk, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rebuilt revision {Target} from base revision {Base}: {Revisions} revisions from {Segments} segments replayed")]
    private static partial void LogBuilt(ILogger logger, long target, long @base, long revisions, int segments);
}
