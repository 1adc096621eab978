using System.Text;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Continuous;

namespace Console.Web.Tests.Infrastructure.Continuous;

public sealed class DeltaSegmentFormatTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private static DeltaSegment Sample() => new(
        ClusterName.Parse("prod"),
        41,
        43,
        [
            new DeltaRevision(41, T0, [Put("/a", "1", 41, 41, 1, 0)]),
            new DeltaRevision(42, T0.AddMilliseconds(5), [Put("/b", "", 42, 42, 1, 7587), new DeltaEvent(DeltaEventKind.Delete, Encoding.UTF8.GetBytes("/a"), [], 0, 42, 0, 0)]),
            new DeltaRevision(43, T0.AddSeconds(2), [Put("/c", new string('x', 300), 43, 43, 1, 0)]),
        ],
        new Dictionary<long, long> { [7587] = 5 });

    private static DeltaEvent Put(string key, string value, long create, long mod, long version, long lease) =>
        new(DeltaEventKind.Put, Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value), create, mod, version, lease);

    [Fact]
    public void A_segment_reads_back_exactly_as_written()
    {
        var bytes = DeltaSegmentFormat.Encode(Sample());

        var read = DeltaSegmentFormat.Decode(bytes);

        Assert.Equal("prod", read.Cluster.Value);
        Assert.Equal((41, 43), (read.FirstRevision, read.LastRevision));
        Assert.Equal([41L, 42, 43], read.Revisions.Select(r => r.Revision));
        Assert.Equal(T0.AddMilliseconds(5), read.Revisions[1].ReceivedAt);
        Assert.Equal(5, read.LeaseTtls[7587]);
        var delete = read.Revisions[1].Events[1];
        Assert.Equal((DeltaEventKind.Delete, "/a", 42L), (delete.Kind, delete.KeyText, delete.ModRevision));
        Assert.Equal(7587, read.Revisions[1].Events[0].Lease);
        Assert.Equal(new string('x', 300), Encoding.UTF8.GetString(read.Revisions[2].Events[0].Value));
    }

    [Fact]
    public void A_flipped_byte_anywhere_is_refused_by_the_trailer()
    {
        var bytes = DeltaSegmentFormat.Encode(Sample());
        for (var i = 0; i < bytes.Length; i += 7)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= 0x01;
            var error = Assert.Throws<DeltaSegmentException>(() => DeltaSegmentFormat.Decode(tampered));
            Assert.Contains("sha256", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_truncated_segment_is_refused()
    {
        var bytes = DeltaSegmentFormat.Encode(Sample());

        Assert.Throws<DeltaSegmentException>(() => DeltaSegmentFormat.Decode(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<DeltaSegmentException>(() => DeltaSegmentFormat.Decode(bytes.AsSpan(0, 20)));
    }

    [Fact]
    public void A_segment_with_a_missing_revision_is_never_written()
    {
        var gap = Sample() with { LastRevision = 44 };

        var error = Assert.Throws<DeltaSegmentException>(() => DeltaSegmentFormat.Encode(gap));

        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_sort_by_revision_and_parse_back()
    {
        var name = new DeltaSegmentName(ClusterName.Parse("prod"), 41, 1_000_043, SnapshotCodec.Zstd | SnapshotCodec.Age);

        Assert.Equal("prod_0000000000000000041-0000000000001000043.delta.zst.age", name.FileName);
        Assert.True(DeltaSegmentName.TryParse(name.FileName, out var parsed));
        Assert.Equal(name, parsed);
        Assert.False(SnapshotName.TryParse(name.FileName, out _));
        Assert.False(DeltaSegmentName.TryParse("prod_0000000000000000043-0000000000000000041.delta", out _));
    }
}
