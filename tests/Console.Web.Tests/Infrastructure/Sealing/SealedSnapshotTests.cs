using System.Security.Cryptography;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Sealing;

/// <summary>Sealed copies (zstd, age) from a real etcd into real stores, opened by the reference tools and by the console.</summary>
public sealed class SealedSnapshotTests
{
    internal static ClusterSpec Sealed(ClusterSpec spec, bool compress, params string[] recipients) =>
        spec with { Backup = spec.Backup with { Sealing = new SnapshotSealing(compress, SnapshotSealing.DefaultLevel, recipients) } };

    [Fact]
    public async Task A_zstd_copy_is_one_zstd_frame_that_zstd_d_turns_back_into_what_etcdctl_saves()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(Sealed(etcd.Spec(), compress: true));
        await harness.FillAsync(2);

        var record = await harness.BackupAsync();
        using var reference = new TestDirectory("etcdctl");
        var etcdctlFile = reference.Combine("etcdctl.db");
        etcd.Etcdctl("snapshot", "save", etcdctlFile);

        Assert.Equal(BackupStatus.Succeeded, record.Status);
        Assert.EndsWith(".db.zst", record.FileName, StringComparison.Ordinal);
        var stored = await File.ReadAllBytesAsync(record.Location!);
        var raw = await File.ReadAllBytesAsync(etcdctlFile);
        Assert.Equal(raw, await Tool.RunAsync("zstd", ["-d", "-c", record.Location!]));
        Assert.True(stored.Length < raw.Length / 4, $"{stored.Length:N0} stored bytes for {raw.Length:N0} raw");
        Assert.Equal(raw.LongLength, record.SizeBytes);
        Assert.Equal(Convert.ToHexStringLower(raw.AsSpan(raw.Length - 32)), record.Sha256);

        Assert.True(SnapshotName.TryParse(record.FileName!, out var name));
        var manifest = harness.Store.ReadManifest(name)!;
        Assert.Equal(("zstd", Convert.ToHexStringLower(SHA256.HashData(stored)), stored.LongLength), (manifest.Codec, manifest.StoredSha256, manifest.StoredSizeBytes));
        Assert.Null(manifest.Recipients);

        var verification = await harness.Snapshots.VerifyAsync("local", name, TestActors.Of("test"), CancellationToken.None);
        Assert.True(verification.Ok, verification.Detail);
        Assert.Contains("opened zstd", verification.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("flipped")]
    [InlineData("truncated")]
    [InlineData("trailing")]
    public async Task An_altered_zstd_copy_fails_verification_in_words(string damage)
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var harness = new BackupHarness(Sealed(etcd.Spec(), compress: true));
        await harness.FillAsync(1);
        var record = await harness.BackupAsync();
        Assert.True(SnapshotName.TryParse(record.FileName!, out var name));

        var bytes = await File.ReadAllBytesAsync(record.Location!);
        var altered = damage switch
        {
            "flipped" => Flip(bytes, bytes.Length / 2),
            "truncated" => bytes[..(bytes.Length * 2 / 3)],
            _ => [.. bytes, .. "junk"u8.ToArray()],
        };
        await File.WriteAllBytesAsync(record.Location!, altered);

        var verification = await harness.Snapshots.VerifyAsync("local", name, TestActors.Of("test"), CancellationToken.None);
        Assert.False(verification.Ok, verification.Detail);
        Assert.False(string.IsNullOrWhiteSpace(verification.Detail));
    }

    internal static byte[] Flip(byte[] bytes, int at)
    {
        var copy = bytes.ToArray();
        copy[at] ^= 0x40;
        return copy;
    }
}
