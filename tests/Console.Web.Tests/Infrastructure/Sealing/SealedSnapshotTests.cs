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

    [Theory]
    [InlineData("zstd")]
    [InlineData("age")]
    [InlineData("zstd+age")]
    public async Task Every_mode_reaches_local_and_s3_and_the_reference_tools_open_it_to_what_etcdctl_saves(string mode)
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var s3 = await S3rver.StartAsync();
        using var keys = await AgeKeys.CreateAsync();
        var spec = Sealed(etcd.Spec(), mode.Contains("zstd", StringComparison.Ordinal), mode.Contains("age", StringComparison.Ordinal) ? [keys.Recipient] : []);
        using var harness = new BackupHarness(spec with { Backup = spec.Backup with { Targets = ["local", "s3"] } }, s3: s3, identityFiles: [keys.IdentityFile]);
        await harness.FillAsync(2);

        var record = await harness.BackupAsync();
        using var reference = new TestDirectory("etcdctl");
        var etcdctlFile = reference.Combine("etcdctl.db");
        etcd.Etcdctl("snapshot", "save", etcdctlFile);

        Assert.True(record.Status == BackupStatus.Succeeded, record.Error);
        Assert.True(SnapshotName.TryParse(record.FileName!, out var name));
        Assert.Equal(mode, name.Codec.Describe());
        var local = await File.ReadAllBytesAsync(harness.Store.PathOf(name));
        await using (var fromS3 = await harness.S3!.OpenReadAsync(name, CancellationToken.None))
        {
            var copy = new MemoryStream();
            await fromS3.CopyToAsync(copy);
            Assert.Equal(local, copy.ToArray());
        }

        var opened = local;
        if (name.Codec.HasFlag(SnapshotCodec.Age))
        {
            Assert.True(local.AsSpan().StartsWith("age-encryption.org/v1\n"u8), "not an age file");
            opened = await Tool.RunAsync("age", ["-d", "-i", keys.IdentityFile], local);
        }

        if (name.Codec.HasFlag(SnapshotCodec.Zstd))
        {
            opened = await Tool.RunAsync("zstd", ["-d", "-c"], opened);
        }

        Assert.Equal(await File.ReadAllBytesAsync(etcdctlFile), opened);
        var manifest = (await harness.S3.ReadManifestAsync(name, CancellationToken.None))!;
        Assert.Equal((mode, Convert.ToHexStringLower(SHA256.HashData(local))), (manifest.Codec, manifest.StoredSha256));
        Assert.Equal(name.Codec.HasFlag(SnapshotCodec.Age) ? [keys.Recipient] : null, manifest.Recipients?.Select(r => r.Recipient).ToArray());
        foreach (var target in new[] { "local", "s3" })
        {
            var verification = await harness.Snapshots.VerifyAsync(target, name, TestActors.Of("test"), CancellationToken.None);
            Assert.True(verification.Ok, $"{target}: {verification.Detail}");
            Assert.Contains($"opened {mode}", verification.Detail, StringComparison.Ordinal);
        }
    }

    internal static byte[] Flip(byte[] bytes, int at)
    {
        var copy = bytes.ToArray();
        copy[at] ^= 0x40;
        return copy;
    }
}

/// <summary>An age key pair made by Debian's age-keygen: the identity file and its recipient.</summary>
internal sealed class AgeKeys : IDisposable
{
    private readonly TestDirectory _dir = new("age-keys");

    private AgeKeys()
    {
    }

    public string IdentityFile => _dir.Combine("key.txt");

    public string Recipient { get; private set; } = "";

    public static async Task<AgeKeys> CreateAsync()
    {
        var keys = new AgeKeys();
        await Tool.RunAsync("age-keygen", ["-o", keys.IdentityFile]);
        keys.Recipient = System.Text.Encoding.ASCII.GetString(await Tool.RunAsync("age-keygen", ["-y", keys.IdentityFile])).Trim();
        return keys;
    }

    public void Dispose() => _dir.Dispose();
}
