namespace Console.Domain.Backups;

/// <summary>
/// How a stored copy is encoded, in the order the layers are applied: the raw etcd snapshot, then zstd, then age.
/// The file name says it (<c>.db</c>, <c>.db.zst</c>, <c>.db.age</c>, <c>.db.zst.age</c>), so an operator opens a copy
/// without this console: <c>age -d -i key.txt x.db.zst.age | zstd -d &gt; x.db</c>.
/// </summary>
[Flags]
public enum SnapshotCodec
{
    None = 0,
    Zstd = 1,
    Age = 2,
}

public static class SnapshotCodecText
{
    /// <summary>The suffix after ".db": "", ".zst", ".age" or ".zst.age".</summary>
    public static string Suffix(this SnapshotCodec codec) =>
        (codec.HasFlag(SnapshotCodec.Zstd) ? ".zst" : string.Empty) + (codec.HasFlag(SnapshotCodec.Age) ? ".age" : string.Empty);

    /// <summary>"none", "zstd", "age" or "zstd+age", as manifests and pages say it.</summary>
    public static string Describe(this SnapshotCodec codec) => codec switch
    {
        SnapshotCodec.None => "none",
        SnapshotCodec.Zstd => "zstd",
        SnapshotCodec.Age => "age",
        _ => "zstd+age",
    };
}

/// <summary>
/// How a cluster's snapshots are sealed before they reach a target: zstd at <see cref="Level"/> when
/// <see cref="Compress"/>, then age to every recipient (public keys "age1…"; none: stored unencrypted). Taking a
/// backup needs no secret: only opening a sealed copy needs an identity.
/// </summary>
public sealed record SnapshotSealing(bool Compress, int Level, IReadOnlyList<string> Recipients)
{
    public const int DefaultLevel = 3;
    public const int MaxLevel = 19;

    public static readonly SnapshotSealing None = new(false, DefaultLevel, []);

    public SnapshotCodec Codec => (Compress ? SnapshotCodec.Zstd : SnapshotCodec.None) | (Recipients.Count > 0 ? SnapshotCodec.Age : SnapshotCodec.None);

    public override string ToString() => Codec switch
    {
        SnapshotCodec.None => "stored raw",
        _ => string.Join(", ", new[] { Compress ? $"zstd level {Level}" : null, Recipients.Count > 0 ? $"age to {Recipients.Count} recipient(s)" : null }.OfType<string>()),
    };
}
