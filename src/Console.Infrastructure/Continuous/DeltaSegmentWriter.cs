using System.Security.Cryptography;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Sealing;
using Console.Infrastructure.Storage;

namespace Console.Infrastructure.Continuous;

/// <summary>
/// Makes one delta segment durable: encodes it (<see cref="DeltaSegmentFormat"/>), seals it with the cluster's sealing
/// exactly as full snapshots are (<see cref="SealingSink"/>: zstd, then age; the name carries the codec), writes it to
/// every target of the cluster's policy (each atomically) and records it in the ledger. Throws when any target failed:
/// the caller must not advance the durable revision then (a segment in only some targets is rewritten, same name).
/// </summary>
public sealed class DeltaSegmentWriter(SnapshotStores stores, DeltaLedger ledger, TimeProvider clock)
{
    public async Task<DeltaSegmentRecord> WriteAsync(ClusterSpec spec, DeltaSegment segment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(segment);
        var raw = DeltaSegmentFormat.Encode(segment);
        var sealing = spec.Backup.Sealing;
        var name = new DeltaSegmentName(spec.Name, segment.FirstRevision, segment.LastRevision, sealing.Codec);
        var (stored, storedSha256) = await SealAsync(raw, sealing, cancellationToken).ConfigureAwait(false);

        var failures = new List<string>();
        foreach (var target in spec.Backup.Targets)
        {
            try
            {
                await stores.Get(target).WriteSegmentAsync(name, stored, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && StorageErrors.IsStorageFailure(ex))
            {
                failures.Add($"{target}: {StorageErrors.Describe(ex)}");
            }
        }

        if (failures.Count > 0)
        {
            throw new IOException($"delta segment {name.FileName} was not stored in every target: {string.Join("; ", failures)}");
        }

        var record = new DeltaSegmentRecord(
            spec.Name.Value,
            segment.FirstRevision,
            segment.LastRevision,
            segment.FirstTime,
            segment.LastTime,
            name.FileName,
            sealing.Codec.Describe(),
            segment.EventCount,
            Convert.ToHexStringLower(SHA256.HashData(raw)),
            raw.Length,
            storedSha256,
            stored.Length,
            spec.Backup.Targets,
            DeltaSegmentStatus.Ok,
            null);
        await ledger.RecordSegmentAsync(record, clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return record;
    }

    /// <summary>The stored bytes of a segment and their sha256: the raw bytes through the sealing layers, or as they are.</summary>
    public static async Task<(byte[] Stored, string Sha256)> SealAsync(byte[] raw, SnapshotSealing sealing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(sealing);
        if (sealing.Codec == SnapshotCodec.None)
        {
            return (raw, Convert.ToHexStringLower(SHA256.HashData(raw)));
        }

        var recipients = sealing.Recipients.Select(r => AgeRecipient.TryParse(r, out var recipient, out var error) ? recipient : throw new InvalidOperationException(error)).ToList();
        var buffer = new BufferSink();
        var sealer = new SealingSink(sealing.Codec, sealing.Level, recipients, buffer);
        await using (sealer.ConfigureAwait(false))
        {
            await sealer.WriteAsync(raw, cancellationToken).ConfigureAwait(false);
            var copy = await sealer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            return (buffer.ToArray(), copy.StoredSha256);
        }
    }

    private sealed class BufferSink : ISnapshotSink
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new();

        public ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
        {
            System.Buffers.BuffersExtensions.Write(_buffer, chunk.Span);
            return ValueTask.CompletedTask;
        }

        public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
    }
}
