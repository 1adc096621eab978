using System.Security.Cryptography;
using System.Text;
using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Infrastructure.Continuous;

/// <summary>A delta segment that cannot be trusted: its trailer does not match, it is cut short, or what it says is inconsistent.</summary>
public sealed class DeltaSegmentException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The raw (unsealed) bytes of a delta segment. Layout, integers as LEB128 varints (.NET's 7-bit encoding; negative
/// numbers take ten bytes) unless said otherwise:
/// <code>
/// "ETCDDLT" 0x01                      magic and format version
/// cluster: length, UTF-8 bytes
/// first revision, last revision
/// lease count, then per lease: id, granted TTL in seconds (-1: unknown)
/// revision count, then per revision:
///   revision, receive time (Unix milliseconds, 8 bytes little-endian), event count, then per event:
///     kind (1 byte: 0 put, 1 delete), key: length, bytes, value: length, bytes,
///     create revision, mod revision, version, lease
/// sha256 of every byte before it (32 bytes)
/// </code>
/// A reader checks the trailer before it believes anything, then that the revisions are exactly first..last, each
/// with at least one event whose mod revision is that revision.
/// </summary>
public static class DeltaSegmentFormat
{
    public const int TrailerLength = 32;
    private static readonly byte[] Magic = [(byte)'E', (byte)'T', (byte)'C', (byte)'D', (byte)'D', (byte)'L', (byte)'T', 1];

    /// <summary>The segment's bytes, trailer included.</summary>
    public static byte[] Encode(DeltaSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        Check(segment);
        using var buffer = new MemoryStream(EstimateSize(segment));
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            WriteBytes(writer, Encoding.UTF8.GetBytes(segment.Cluster.Value));
            writer.Write7BitEncodedInt64(segment.FirstRevision);
            writer.Write7BitEncodedInt64(segment.LastRevision);
            writer.Write7BitEncodedInt64(segment.LeaseTtls.Count);
            foreach (var (lease, ttl) in segment.LeaseTtls.OrderBy(l => l.Key))
            {
                writer.Write7BitEncodedInt64(lease);
                writer.Write7BitEncodedInt64(ttl);
            }

            writer.Write7BitEncodedInt64(segment.Revisions.Count);
            foreach (var revision in segment.Revisions)
            {
                writer.Write7BitEncodedInt64(revision.Revision);
                writer.Write(revision.ReceivedAt.ToUnixTimeMilliseconds());
                writer.Write7BitEncodedInt64(revision.Events.Count);
                foreach (var e in revision.Events)
                {
                    writer.Write((byte)e.Kind);
                    WriteBytes(writer, e.Key);
                    WriteBytes(writer, e.Value);
                    writer.Write7BitEncodedInt64(e.CreateRevision);
                    writer.Write7BitEncodedInt64(e.ModRevision);
                    writer.Write7BitEncodedInt64(e.Version);
                    writer.Write7BitEncodedInt64(e.Lease);
                }
            }
        }

        var hash = SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        buffer.Write(hash);
        return buffer.ToArray();
    }

    /// <summary>Reads a whole raw segment (at most <paramref name="maxBytes"/>) and decodes it.</summary>
    public static async Task<DeltaSegment> ReadAsync(Stream raw, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(raw);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await raw.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new DeltaSegmentException($"the segment is larger than {maxBytes} bytes, more than any segment the console writes");
            }

            buffer.Write(chunk, 0, read);
        }

        return Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    public static DeltaSegment Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Magic.Length + TrailerLength)
        {
            throw new DeltaSegmentException($"the segment is {bytes.Length} bytes, too short to be one (cut short?)");
        }

        var body = bytes[..^TrailerLength];
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes[^TrailerLength..]))
        {
            throw new DeltaSegmentException("the segment's sha256 trailer does not match its contents (it was cut short or changed)");
        }

        if (!body[..Magic.Length].SequenceEqual(Magic))
        {
            throw new DeltaSegmentException("the segment does not start with the delta segment header (ETCDDLT, version 1)");
        }

        try
        {
            using var reader = new BinaryReader(new MemoryStream(body[Magic.Length..].ToArray()), Encoding.UTF8);
            var clusterText = Encoding.UTF8.GetString(ReadBytes(reader));
            if (!ClusterName.TryParse(clusterText, out var cluster, out _))
            {
                throw new DeltaSegmentException($"the segment names '{clusterText}', not a cluster name");
            }

            var first = reader.Read7BitEncodedInt64();
            var last = reader.Read7BitEncodedInt64();
            var leases = new Dictionary<long, long>();
            for (var i = Count(reader); i > 0; i--)
            {
                leases[reader.Read7BitEncodedInt64()] = reader.Read7BitEncodedInt64();
            }

            var revisions = new List<DeltaRevision>();
            for (var i = Count(reader); i > 0; i--)
            {
                var revision = reader.Read7BitEncodedInt64();
                var receivedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
                var events = new List<DeltaEvent>();
                for (var j = Count(reader); j > 0; j--)
                {
                    var kind = reader.ReadByte() switch
                    {
                        0 => DeltaEventKind.Put,
                        1 => DeltaEventKind.Delete,
                        var other => throw new DeltaSegmentException($"revision {revision} has an event of unknown kind {other}"),
                    };
                    events.Add(new DeltaEvent(kind, ReadBytes(reader), ReadBytes(reader), reader.Read7BitEncodedInt64(), reader.Read7BitEncodedInt64(), reader.Read7BitEncodedInt64(), reader.Read7BitEncodedInt64()));
                }

                revisions.Add(new DeltaRevision(revision, receivedAt, events));
            }

            if (reader.BaseStream.Position != reader.BaseStream.Length)
            {
                throw new DeltaSegmentException($"the segment has {reader.BaseStream.Length - reader.BaseStream.Position} bytes after its last revision");
            }

            var segment = new DeltaSegment(cluster, first, last, revisions, leases);
            Check(segment);
            return segment;
        }
        catch (EndOfStreamException ex)
        {
            throw new DeltaSegmentException("the segment ends in the middle of a record", ex);
        }
        catch (FormatException ex)
        {
            throw new DeltaSegmentException("the segment holds a malformed number", ex);
        }
    }

    /// <summary>The invariants every segment keeps: revisions exactly first..last, each with events of that revision.</summary>
    private static void Check(DeltaSegment segment)
    {
        if (segment.Revisions.Count == 0 || segment.FirstRevision < 1 || segment.LastRevision < segment.FirstRevision)
        {
            throw new DeltaSegmentException($"the segment's range {segment.FirstRevision}..{segment.LastRevision} with {segment.Revisions.Count} revisions is not a segment");
        }

        if (segment.LastRevision - segment.FirstRevision + 1 != segment.Revisions.Count)
        {
            throw new DeltaSegmentException($"the segment says revisions {segment.FirstRevision}..{segment.LastRevision} but holds {segment.Revisions.Count}: some are missing");
        }

        var expected = segment.FirstRevision;
        foreach (var revision in segment.Revisions)
        {
            if (revision.Revision != expected)
            {
                throw new DeltaSegmentException($"the segment holds revision {revision.Revision} where {expected} belongs");
            }

            if (revision.Events.Count == 0 || revision.Events.Any(e => e.ModRevision != revision.Revision))
            {
                throw new DeltaSegmentException($"revision {revision.Revision} has no events, or events of another revision");
            }

            expected++;
        }
    }

    private static int Count(BinaryReader reader)
    {
        var count = reader.Read7BitEncodedInt64();
        return count < 0 || count > reader.BaseStream.Length ? throw new DeltaSegmentException($"the segment claims {count} entries, more than it could hold") : (int)count;
    }

    private static void WriteBytes(BinaryWriter writer, byte[] bytes)
    {
        writer.Write7BitEncodedInt64(bytes.Length);
        writer.Write(bytes);
    }

    private static byte[] ReadBytes(BinaryReader reader)
    {
        var length = Count(reader);
        var bytes = reader.ReadBytes(length);
        return bytes.Length == length ? bytes : throw new EndOfStreamException();
    }

    private static int EstimateSize(DeltaSegment segment) =>
        (int)Math.Min(int.MaxValue / 2, 256 + segment.Revisions.Sum(r => 16 + r.Events.Sum(e => e.ApproximateSize)));
}
