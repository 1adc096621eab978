using System.Globalization;
using System.Text.RegularExpressions;
using Console.Domain.Clusters;

namespace Console.Domain.Backups;

/// <summary>
/// Snapshot file names: <c>{cluster}_{yyyyMMdd'T'HHmmss.fff'Z'}.db</c>, followed by the codec's suffix for a sealed
/// copy (<c>.db.zst</c>, <c>.db.age</c>, <c>.db.zst.age</c>). The cluster cannot contain '_', so the name parses back
/// unambiguously, and for one cluster a lexical sort is chronological. Anything that does not parse is not ours and is
/// never touched.
/// </summary>
public readonly partial record struct SnapshotName(ClusterName Cluster, DateTimeOffset TakenAt, SnapshotCodec Codec = SnapshotCodec.None)
{
    public const string Extension = ".db";
    public const string ManifestExtension = ".json";
    public const string PartialExtension = ".part";
    private const string TimestampFormat = "yyyyMMdd'T'HHmmss'.'fff'Z'";

    public string FileName => $"{Cluster.Value}_{TakenAt.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture)}{Extension}{Codec.Suffix()}";

    /// <summary>The name the copy has once opened: the raw etcd snapshot, <c>.db</c>.</summary>
    public string RawFileName => (this with { Codec = SnapshotCodec.None }).FileName;

    public string ManifestFileName => FileName + ManifestExtension;

    public string PartialFileName => FileName + PartialExtension;

    /// <summary>A name for a snapshot taken at <paramref name="now"/>, to the millisecond.</summary>
    public static SnapshotName For(ClusterName cluster, DateTimeOffset now, SnapshotCodec codec = SnapshotCodec.None) =>
        new(cluster, new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero), codec);

    public static bool TryParse(string fileName, out SnapshotName name)
    {
        name = default;
        var match = Pattern().Match(fileName ?? string.Empty);
        if (!match.Success || !ClusterName.TryParse(match.Groups["cluster"].Value, out var cluster, out _))
        {
            return false;
        }

        if (!DateTimeOffset.TryParseExact(match.Groups["ts"].Value, TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var takenAt))
        {
            return false;
        }

        var codec = (match.Groups["zst"].Success ? SnapshotCodec.Zstd : SnapshotCodec.None) | (match.Groups["age"].Success ? SnapshotCodec.Age : SnapshotCodec.None);
        name = new SnapshotName(cluster, takenAt, codec);
        return true;
    }

    /// <summary>Whether <paramref name="fileName"/> is one of our in-progress files (safe to remove at start-up).</summary>
    public static bool IsPartial(string fileName) =>
        fileName.EndsWith(PartialExtension, StringComparison.Ordinal) && TryParse(fileName[..^PartialExtension.Length], out _);

    public override string ToString() => FileName;

    [GeneratedRegex(@"^(?<cluster>[a-z0-9][a-z0-9-]{0,62})_(?<ts>\d{8}T\d{6}\.\d{3}Z)\.db(?<zst>\.zst)?(?<age>\.age)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
