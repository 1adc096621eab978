using System.Globalization;
using System.Text.RegularExpressions;
using Console.Domain.Clusters;

namespace Console.Domain.Backups;

/// <summary>
/// Delta segment names: <c>{cluster}_{first:D19}-{last:D19}.delta</c>, then the codec's suffix for a sealed segment
/// (<c>.delta.zst</c>, <c>.delta.age</c>, <c>.delta.zst.age</c>). Zero-padded revisions sort lexically in revision
/// order; the cluster cannot contain '_', so the name parses back. Segments live in a <c>deltas</c> folder (prefix)
/// beside the cluster's snapshots, and never parse as a <see cref="SnapshotName"/>.
/// </summary>
public readonly partial record struct DeltaSegmentName(ClusterName Cluster, long FirstRevision, long LastRevision, SnapshotCodec Codec = SnapshotCodec.None)
{
    public const string Extension = ".delta";
    public const string Folder = "deltas";

    public string FileName => string.Create(CultureInfo.InvariantCulture, $"{Cluster.Value}_{FirstRevision:D19}-{LastRevision:D19}{Extension}{Codec.Suffix()}");

    public string PartialFileName => FileName + SnapshotName.PartialExtension;

    public static bool TryParse(string fileName, out DeltaSegmentName name)
    {
        name = default;
        var match = Pattern().Match(fileName ?? string.Empty);
        if (!match.Success || !ClusterName.TryParse(match.Groups["cluster"].Value, out var cluster, out _)
            || !long.TryParse(match.Groups["first"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !long.TryParse(match.Groups["last"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first < 1 || last < first)
        {
            return false;
        }

        var codec = (match.Groups["zst"].Success ? SnapshotCodec.Zstd : SnapshotCodec.None) | (match.Groups["age"].Success ? SnapshotCodec.Age : SnapshotCodec.None);
        name = new DeltaSegmentName(cluster, first, last, codec);
        return true;
    }

    public override string ToString() => FileName;

    [GeneratedRegex(@"^(?<cluster>[a-z0-9][a-z0-9-]{0,62})_(?<first>\d{19})-(?<last>\d{19})\.delta(?<zst>\.zst)?(?<age>\.age)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
