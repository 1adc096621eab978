using System.Globalization;
using System.Security.Cryptography;
using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Infrastructure.Sealing;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Options;

namespace Console.Bench;

/// <summary>How the copies are sealed: raw, zstd, or zstd then age.</summary>
internal sealed record SealingMode(string Label, SnapshotSealing Sealing);

/// <summary>
/// One cell of the sealing matrix at one DB size: a mode to a target (or etcdctl's reference line), every round's wall
/// time and the console's CPU seconds (etcdctl's own for its line), the raw snapshot's size and what the target stored.
/// </summary>
internal sealed record SealingResult(int TargetMiB, string Mode, string Target, long RawBytes, long StoredBytes, IReadOnlyList<double> Seconds, IReadOnlyList<double> Cpu)
{
    public string Label => string.Create(CultureInfo.InvariantCulture, $"{TargetMiB} MiB");
}

/// <summary>
/// The sealed snapshot path (issue 15): raw, zstd and zstd+age, each to local only, S3 only and local + S3, through
/// the product's SnapshotPipeline and SealingSink, beside <c>etcdctl snapshot save</c>. Every cell gets one unmeasured
/// run first; each mode's copy is then opened through the product's SnapshotOpener and must give back, byte for byte,
/// what etcdctl saved. Rounds rotate the order of the cells; every copy is checked in each store it went to and deleted.
/// </summary>
internal sealed class SealingBench(TargetSnapshotPath path, IReadOnlyList<TargetMode> targets, EtcdctlSnapshotPath etcdctl, LocalSnapshotStore local)
{
    public const string Etcdctl = "etcdctl";

    /// <summary>raw, zstd, and zstd+age to a key made for the run, whose identity file opens the copies.</summary>
    public static (IReadOnlyList<SealingMode> Modes, SealingKeys Keys) Modes(string root)
    {
        var identity = AgeIdentity.Generate();
        var identityFile = Path.Combine(root, "age-identity.txt");
        File.WriteAllText(identityFile, identity.ToSecretString() + "\n");
        var keys = new SealingKeys(Options.Create(new ConsoleSettings { Encryption = new IdentitySettings { IdentityFiles = [identityFile] } }));
        return (
        [
            new("raw", SnapshotSealing.None),
            new("zstd", new SnapshotSealing(true, SnapshotSealing.DefaultLevel, [])),
            new("zstd+age", new SnapshotSealing(true, SnapshotSealing.DefaultLevel, [identity.Recipient.Text])),
        ], keys);
    }

    public async Task<IReadOnlyList<SealingResult>> MeasureAsync(int targetMiB, int runs, IReadOnlyList<SealingMode> modes, SealingKeys keys, string etcdPid, CancellationToken cancellationToken)
    {
        // etcdctl's copy is the reference every mode must open to.
        var reference = await etcdctl.RunAsync(cancellationToken);
        var referenceSha = await Sha256Async(File.OpenRead(reference.Paths[0]), cancellationToken);
        reference.Delete();
        var localOnly = targets.Single(t => t.Label == "local");
        foreach (var mode in modes)
        {
            var (run, name) = await path.RunAsync(localOnly, cancellationToken, mode.Sealing);
            var manifest = await local.ReadManifestAsync(name, cancellationToken);
            var opened = await new SnapshotOpener(keys).OpenAsync(File.OpenRead(local.PathOf(name)), name, manifest, null, cancellationToken);
            string sha;
            await using (opened)
            {
                sha = await Sha256Async(opened.Raw, cancellationToken);
            }

            await TargetSnapshotPath.VerifyAndDeleteAsync(localOnly, name, run.Size, run.Sha256, cancellationToken);
            if (sha != referenceSha)
            {
                throw new InvalidOperationException($"{mode.Label}: the copy opened to sha256 {sha}, not etcdctl's {referenceSha}");
            }

            Benchmark.Log($"{mode.Label}: the stored copy opens to etcdctl's snapshot, byte for byte (sha256 {sha[..16]}…)");
        }

        var cells = new List<(string Mode, TargetMode? Target, SnapshotSealing? Sealing)> { (Etcdctl, null, null) };
        cells.AddRange(modes.SelectMany(m => targets.Select(t => (m.Label, (TargetMode?)t, (SnapshotSealing?)m.Sealing))));
        foreach (var (_, target, sealing) in cells.Where(c => c.Target is not null))
        {
            var (run, name) = await path.RunAsync(target!, cancellationToken, sealing);
            await TargetSnapshotPath.VerifyAndDeleteAsync(target!, name, run.Size, run.Sha256, cancellationToken);
        }

        var seconds = cells.Select(_ => new List<double>()).ToArray();
        var cpu = cells.Select(_ => new List<double>()).ToArray();
        var raw = new long[cells.Count];
        var stored = new long[cells.Count];
        for (var i = 0; i < runs; i++)
        {
            for (var j = 0; j < cells.Count; j++)
            {
                var k = (i + j) % cells.Count;
                var (mode, target, sealing) = cells[k];
                await Settle.DiskAsync(cancellationToken);
                var self = CpuTime.Of("self");
                var server = CpuTime.Of(etcdPid);
                double wall;
                if (target is null)
                {
                    var file = await etcdctl.RunAsync(cancellationToken);
                    file.Delete();
                    wall = file.Seconds;
                    raw[k] = stored[k] = file.Size;
                    cpu[k].Add((CpuTime.Of("self") - self).Children);
                }
                else
                {
                    var (run, name) = await path.RunAsync(target, cancellationToken, sealing);
                    cpu[k].Add((CpuTime.Of("self") - self).Own);
                    wall = run.Seconds;
                    raw[k] = run.Size;
                    stored[k] = await TargetSnapshotPath.VerifyAndDeleteAsync(target, name, run.Size, run.Sha256, cancellationToken);
                }

                seconds[k].Add(wall);
                Benchmark.Log($"{targetMiB} MiB round {i + 1}/{runs} {mode,-8} {target?.Label ?? "local",-8}: {wall:0.000} s, {raw[k] / 1e6:0.0} MB -> {stored[k] / 1e6:0.0} MB stored; cpu {cpu[k][^1]:0.00} s (etcd {(CpuTime.Of(etcdPid) - server).Own:0.00} s)");
            }
        }

        return [.. cells.Select((c, k) => new SealingResult(targetMiB, c.Mode, c.Target?.Label ?? "local", raw[k], stored[k], seconds[k], cpu[k]))];
    }

    private static async Task<string> Sha256Async(Stream stream, CancellationToken cancellationToken)
    {
        await using (stream)
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        }
    }
}
