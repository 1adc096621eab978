using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sealing;
using Console.Infrastructure.Storage;
using ZstdSharp;

namespace Console.Infrastructure.Continuous;

/// <summary>
/// The recoverable window from the ledger (segments, breaks, durable time) and the full snapshots the console knows,
/// and the segments read back from the targets (decision record 0029).
/// </summary>
public sealed class DeltaHistory(ClusterCatalog catalog, DeltaLedger ledger, SnapshotStores stores, SnapshotOpener opener) : IDeltaHistory
{
    // Far more than a segment can hold (MaxSegmentBytes is at most 256 MiB of events, plus the format's overhead).
    private const long MaxRawBytes = 1L << 30;

    public async Task<RecoverableWindow> WindowAsync(ClusterName cluster, CancellationToken cancellationToken)
    {
        var enabled = catalog.Find(cluster.Value)?.Backup.Continuous.Enabled ?? false;
        var state = await ledger.StateAsync(cluster.Value, cancellationToken).ConfigureAwait(false);
        var segments = Current(await ledger.SegmentsAsync(cluster.Value, cancellationToken).ConfigureAwait(false), state);
        if (!enabled && segments.Count == 0 && state is null)
        {
            return RecoverableWindow.Off(cluster);
        }

        var bases = await ledger.BasesAsync(cluster.Value, cancellationToken, state?.HistorySince).ConfigureAwait(false);
        var breaks = (await ledger.BreaksAsync(cluster.Value, cancellationToken).ConfigureAwait(false)).ToList();
        var spans = Spans(bases, segments, state);

        // A damaged segment is a break too: the window ends before it, and the operator reads why.
        foreach (var damaged in segments.Where(s => s.Status == DeltaSegmentStatus.Damaged))
        {
            var resumed = spans.FirstOrDefault(s => s.FromRevision >= damaged.FirstRevision)?.FromRevision;
            breaks.Add(new ContinuityBreak(damaged.FirstRevision - 1, resumed, damaged.FirstTime, $"delta segment {damaged.FileName} is damaged: {damaged.Reason}"));
        }

        breaks.Sort((a, b) => a.AfterRevision.CompareTo(b.AfterRevision));
        return new RecoverableWindow(cluster, enabled, spans, breaks, state?.DurableTime ?? spans.LastOrDefault()?.ToTime);
    }

    /// <summary>
    /// Unbroken chains: from a full snapshot at revision rF, segments continuing contiguously from rF + 1 (events at or
    /// below the chain's end may overlap; a gap, a damaged segment or the end of the segments ends it). A snapshot
    /// already inside an earlier chain adds nothing; one beyond it starts a new span. The chain that reaches the durable
    /// revision ends at the durable time (progress notifications confirmed nothing newer existed by then).
    /// </summary>
    internal static List<RecoverableSpan> Spans(IReadOnlyList<BaseSnapshot> bases, IReadOnlyList<DeltaSegmentRecord> segments, ContinuousState? state)
    {
        var spans = new List<RecoverableSpan>();
        foreach (var start in bases.OrderBy(b => b.Revision).ThenBy(b => b.At))
        {
            if (spans.Count > 0 && start.Revision <= spans[^1].ToRevision)
            {
                continue;
            }

            var (to, toTime) = (start.Revision, start.At);
            foreach (var segment in segments)
            {
                if (segment.LastRevision <= to)
                {
                    continue;
                }

                if (segment.FirstRevision > to + 1 || segment.Status != DeltaSegmentStatus.Ok)
                {
                    break;
                }

                (to, toTime) = (segment.LastRevision, segment.LastTime);
            }

            if (state is not null && state.DurableRevision == to && state.DurableTime > toTime)
            {
                toTime = state.DurableTime;
            }

            spans.Add(new RecoverableSpan(start.Revision, to, start.At, toTime < start.At ? start.At : toTime, start.FileName));
        }

        return spans;
    }

    /// <summary>Only segments of the cluster's current history: after a restore, revisions start over and the old
    /// history's segments must never be mixed with the new one's.</summary>
    private static IReadOnlyList<DeltaSegmentRecord> Current(IReadOnlyList<DeltaSegmentRecord> segments, ContinuousState? state) =>
        state?.HistorySince is { } since ? [.. segments.Where(s => s.FirstTime >= since)] : segments;

    public async IAsyncEnumerable<DeltaSegment> ReadAsync(ClusterName cluster, long afterRevision, long throughRevision, IReadOnlyList<AgeIdentity>? identities, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var state = await ledger.StateAsync(cluster.Value, cancellationToken).ConfigureAwait(false);
        var segments = Current(await ledger.SegmentsAsync(cluster.Value, cancellationToken).ConfigureAwait(false), state);
        var reached = afterRevision;
        while (reached < throughRevision)
        {
            // The segment holding the next revision; overlap is allowed, a gap is not.
            var next = segments.Where(s => s.FirstRevision <= reached + 1 && s.LastRevision > reached).OrderByDescending(s => s.Status == DeltaSegmentStatus.Ok).ThenBy(s => s.FirstRevision).FirstOrDefault()
                ?? throw new DeltaSegmentException($"no delta segment of {cluster} holds revision {reached + 1}: continuous backup has a gap there");
            if (next.Status != DeltaSegmentStatus.Ok)
            {
                throw new DeltaSegmentException($"delta segment {next.FileName} (revisions {next.FirstRevision}..{next.LastRevision}) is damaged: {next.Reason}");
            }

            var segment = await ReadOneAsync(next, identities, cancellationToken).ConfigureAwait(false);
            yield return segment;
            reached = segment.LastRevision;
        }
    }

    private async Task<DeltaSegment> ReadOneAsync(DeltaSegmentRecord record, IReadOnlyList<AgeIdentity>? identities, CancellationToken cancellationToken)
    {
        if (!DeltaSegmentName.TryParse(record.FileName, out var name))
        {
            throw await DamagedAsync(record, "its recorded name does not parse as a delta segment", null, cancellationToken).ConfigureAwait(false);
        }

        // Local first (no network), then the others; a copy that fails its check is passed over for the next one.
        var problems = new List<string>();
        foreach (var target in record.Targets.OrderBy(t => t == "local" ? 0 : 1))
        {
            if (stores.Find(target) is not { } store)
            {
                problems.Add($"{target}: not configured");
                continue;
            }

            try
            {
                return await ReadCopyAsync(store, name, record, identities, cancellationToken).ConfigureAwait(false);
            }
            catch (SealedCopyException ex)
            {
                // No identity opens it: named, but not recorded as damaged (the copy is fine; an operator's key opens it).
                throw new DeltaSegmentException($"delta segment {record.FileName} (revisions {record.FirstRevision}..{record.LastRevision}) cannot be opened: {ex.Message}", ex);
            }
            catch (Exception ex) when (ex is DeltaSegmentException or FileNotFoundException or IOException or UnauthorizedAccessException or ZstdException or AgeException
                && !cancellationToken.IsCancellationRequested)
            {
                problems.Add($"{target}: {(ex is FileNotFoundException ? "missing" : ex.Message)}");
            }
        }

        throw await DamagedAsync(record, problems.Count == 0 ? "no target holds it" : string.Join("; ", problems), null, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DeltaSegment> ReadCopyAsync(ISnapshotStore store, DeltaSegmentName name, DeltaSegmentRecord record, IReadOnlyList<AgeIdentity>? identities, CancellationToken cancellationToken)
    {
        byte[] stored;
        var stream = await store.OpenSegmentAsync(name, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            stored = buffer.ToArray();
        }

        var sha256 = Convert.ToHexStringLower(SHA256.HashData(stored));
        if (!string.Equals(sha256, record.StoredSha256, StringComparison.Ordinal))
        {
            throw new DeltaSegmentException($"its stored sha256 is {sha256}, not the {record.StoredSha256} recorded when it was written (changed or cut short)");
        }

        DeltaSegment segment;
        var opened = await opener.OpenAsync(new MemoryStream(stored), name.Codec, name.FileName, null, identities, cancellationToken).ConfigureAwait(false);
        await using (opened.ConfigureAwait(false))
        {
            segment = await DeltaSegmentFormat.ReadAsync(opened.Raw, MaxRawBytes, cancellationToken).ConfigureAwait(false);
        }

        if (segment.Cluster != name.Cluster || segment.FirstRevision != name.FirstRevision || segment.LastRevision != name.LastRevision)
        {
            throw new DeltaSegmentException($"it holds {segment.Cluster} revisions {segment.FirstRevision}..{segment.LastRevision}, not what its name says");
        }

        return segment;
    }

    private async Task<DeltaSegmentException> DamagedAsync(DeltaSegmentRecord record, string reason, Exception? inner, CancellationToken cancellationToken)
    {
        await ledger.MarkDamagedAsync(record.Cluster, record.FileName, reason, cancellationToken).ConfigureAwait(false);
        return new DeltaSegmentException($"delta segment {record.FileName} (revisions {record.FirstRevision}..{record.LastRevision}) cannot be used: {reason}", inner);
    }
}
