using System.Globalization;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Options;

namespace Console.Bench;

internal sealed record BenchOptions(IReadOnlyList<int> SizesMiB, int Runs, string EtcdBinary, string EtcdctlBinary)
{
    /// <summary>Rounds of local, s3 and local+s3 at each size (0: no S3 section).</summary>
    public int S3Runs { get; init; } = 5;

    public string S3rverBinary { get; init; } = Path.Combine("node_modules", ".bin", "s3rver");

    /// <summary>The console's defaults unless given.</summary>
    public int PartSizeMiB { get; init; } = new S3StorageSettings().PartSizeMiB;

    public int ParallelParts { get; init; } = new S3StorageSettings().ParallelParts;

    /// <summary>The sealing matrix (raw, zstd, zstd+age to each target, beside etcdctl) instead of the paired runs.</summary>
    public bool Sealing { get; init; }

    /// <summary>"random" (1 MiB values of base64 over random bytes) or "k8s" (Kubernetes-like objects, see K8sObjects).</summary>
    public string Data { get; init; } = "random";

    public int Seed { get; init; } = 15;

    public static BenchOptions Parse(string[] args)
    {
        IReadOnlyList<int> sizes = [256, 1024];
        var runs = 7;
        var etcd = "etcd";
        var etcdctl = "etcdctl";
        var defaults = new BenchOptions([], 0, etcd, etcdctl);
        var s3Runs = defaults.S3Runs;
        var s3rver = defaults.S3rverBinary;
        var partSize = defaults.PartSizeMiB;
        var parallel = defaults.ParallelParts;
        var sealing = args.Contains("--sealing");
        var data = defaults.Data;
        var seed = defaults.Seed;
        args = [.. args.Where(a => a != "--sealing")];
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw Usage($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--sizes":
                    sizes = [.. value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).Order()];
                    break;
                case "--runs":
                    runs = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--etcd":
                    etcd = value;
                    break;
                case "--etcdctl":
                    etcdctl = value;
                    break;
                case "--s3-runs":
                    s3Runs = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--s3rver":
                    s3rver = value;
                    break;
                case "--part-size-mib":
                    partSize = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--parallel-parts":
                    parallel = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--data":
                    data = value is "k8s" or "random" ? value : throw Usage($"--data is k8s or random, not '{value}'");
                    break;
                case "--seed":
                    seed = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    throw Usage($"unknown argument {args[i]}");
            }

            i++;
        }

        return runs < 1 || sizes.Count == 0 || sizes.Any(s => s < 1) || s3Runs < 0 || partSize < 5 || parallel < 1
            ? throw Usage("--runs and every size must be at least 1, --s3-runs at least 0, --part-size-mib at least 5 (S3's minimum part) and --parallel-parts at least 1")
            : new BenchOptions(sizes, runs, etcd, etcdctl) { S3Runs = s3Runs, S3rverBinary = s3rver, PartSizeMiB = partSize, ParallelParts = parallel, Sealing = sealing, Data = data, Seed = seed };
    }

    private static ArgumentException Usage(string problem) =>
        new($"{problem}. Usage: Console.Bench [--sizes 256,1024] [--runs 7] [--etcd etcd] [--etcdctl etcdctl] [--s3-runs 5] [--s3rver node_modules/.bin/s3rver] [--part-size-mib 8] [--parallel-parts 4] [--sealing] [--data random|k8s] [--seed 15]");
}

/// <summary>What one DB size gave: every paired run's wall time, and the console's RSS around its snapshots.</summary>
internal sealed record SizeResult(
    int TargetMiB,
    long DbSize,
    long SnapshotBytes,
    IReadOnlyList<double> ConsoleSeconds,
    IReadOnlyList<double> EtcdctlSeconds,
    bool FilesMatch,
    long BaselineRssBytes,
    long PeakRssBytes)
{
    public string Label => string.Create(CultureInfo.InvariantCulture, $"{TargetMiB} MiB");

    /// <summary>CPU seconds of each run, in the order of the paired runs: the client's, and etcd's while serving it.</summary>
    public SnapshotCpu Cpu { get; init; } = new([], [], [], []);

    /// <summary>The whole BackupRunner run of each round: request to finished record, the record's own duration, and the console's CPU.</summary>
    public IReadOnlyList<double> RequestSeconds { get; init; } = [];

    public IReadOnlyList<double> RecordSeconds { get; init; } = [];

    public IReadOnlyList<double> RequestCpu { get; init; } = [];
}

internal sealed record SnapshotCpu(IReadOnlyList<double> Console, IReadOnlyList<double> Etcdctl, IReadOnlyList<double> EtcdForConsole, IReadOnlyList<double> EtcdForEtcdctl);

/// <summary>One mode (local, s3, local+s3) at one DB size: every round's wall time, and its largest RSS growth in any run.</summary>
internal sealed record TargetsResult(
    int TargetMiB,
    string Mode,
    long SnapshotBytes,
    IReadOnlyList<double> Seconds,
    IReadOnlyList<double> StreamSeconds,
    long PeakRssGrowthBytes)
{
    public string Label => string.Create(CultureInfo.InvariantCulture, $"{TargetMiB} MiB");
}

/// <summary>Everything a run of the benchmark gave: the etcdctl comparison, and the targets section (empty with --s3-runs 0).</summary>
internal sealed record BenchResults(IReadOnlyList<SizeResult> Sizes, IReadOnlyList<TargetsResult> Targets, BenchOptions Options)
{
    /// <summary>The sealing matrix (with --sealing).</summary>
    public IReadOnlyList<SealingResult> Sealing { get; init; } = [];
}

internal static class Benchmark
{
    public const long MiB = 1024 * 1024;

    public static async Task<BenchResults> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("console-bench-").FullName;
        EtcdProcess? etcd = null;
        S3rverProcess? s3rver = null;
        S3SnapshotStore? s3 = null;
        BackupRunPath? request = null;
        try
        {
            var ports = FreePorts.Pick(2);
            var layout = new EtcdMemberLayout("bench", ports[0], ports[1], Path.Combine(root, "etcd", "bench"));
            etcd = EtcdProcess.Start(options.EtcdBinary, layout, EtcdMemberLayout.InitialCluster([layout]), "console-bench", ["--quota-backend-bytes=8589934592"]);
            var endpoint = layout.ClientUrl;
            var spec = new ClusterSpec(ClusterName.Parse("bench"), [endpoint], null, null, []);
            using var client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(30));
            var version = await WaitForLeaderAsync(client, endpoint, etcd, cancellationToken);
            Log($"etcd {version} (pid {etcd.Pid}) on {endpoint}, data and snapshots under {root}");

            var snapshots = Path.Combine(root, "snapshots");
            Directory.CreateDirectory(snapshots);
            var settings = new ConsoleSettings { DataDir = root, Storage = new StorageSettings { Local = new LocalStorageSettings { Dir = snapshots } } };
            var local = new LocalSnapshotStore(Options.Create(settings));
            var console = new ConsoleSnapshotPath(spec, endpoint, local);
            var etcdctl = new EtcdctlSnapshotPath(options.EtcdctlBinary, endpoint, snapshots);

            // The whole run an operator waits for, on a database and snapshot directory of its own under root/console.
            if (!options.Sealing)
            {
                request = await BackupRunPath.CreateAsync(spec, new ConsoleSettings { DataDir = Path.Combine(root, "console") }, cancellationToken);
            }

            // The targets section: the same snapshot path through ISnapshotStore writers and a tee, to the local
            // directory above, to s3rver, or to both.
            IReadOnlyList<TargetMode> modes = [];
            var targets = new TargetSnapshotPath(spec, endpoint);
            if (options.S3Runs > 0)
            {
                s3rver = await S3rverProcess.StartAsync(options.S3rverBinary, Path.Combine(root, "s3rver"), cancellationToken);
                s3 = new S3SnapshotStore(Options.Create(settings with { Storage = settings.Storage with { S3 = s3rver.Settings(options.PartSizeMiB, options.ParallelParts) } }));
                Log($"s3rver (pid {s3rver.Pid}) on http://127.0.0.1:{s3rver.Port}, bucket {S3rverProcess.Bucket}; part size {s3.PartSize / MiB} MiB, {s3.ParallelParts} parts in parallel");
                modes = [new TargetMode("local", [local]), new TargetMode("s3", [s3]), new TargetMode("local+s3", [local, s3])];
            }

            // One unmeasured pair on the near-empty store, so JIT compilation of the console's path and the first
            // start of etcdctl's binary from disk are not in the figures (the console is a long-running process).
            // The same for each target mode (the S3 client's first request included).
            (await console.RunAsync(cancellationToken)).Delete();
            if (request is not null)
            {
                (await request.RunAsync(cancellationToken)).Delete();
            }

            (await etcdctl.RunAsync(cancellationToken)).Delete();
            foreach (var mode in modes)
            {
                var (run, name) = await targets.RunAsync(mode, cancellationToken);
                await TargetSnapshotPath.VerifyAndDeleteAsync(mode, name, run.Size, run.Sha256, cancellationToken);
            }

            var (sealingModes, keys) = SealingBench.Modes(root);
            var sealingBench = new SealingBench(targets, modes.Count > 0 ? modes : [new TargetMode("local", [local])], etcdctl, local);
            using var k8s = options.Data == "k8s" ? new K8sFiller(endpoint, options.Seed) : null;
            IFiller filler = k8s is null ? new Filler(client, endpoint) : k8s;
            var results = new List<SizeResult>();
            var targetResults = new List<TargetsResult>();
            var sealingResults = new List<SealingResult>();
            foreach (var size in options.SizesMiB)
            {
                var started = DateTime.UtcNow;
                var dbSize = await filler.FillToAsync(size * MiB, cancellationToken);
                Log($"filled to {dbSize / (double)MiB:0.0} MiB ({filler.Describe()}) in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
                if (options.Sealing)
                {
                    await Settle.DiskAsync(cancellationToken);
                    sealingResults.AddRange(await sealingBench.MeasureAsync(size, options.Runs, sealingModes, keys, etcd.Pid.ToString(CultureInfo.InvariantCulture), cancellationToken));
                    continue;
                }

                // One unmeasured pair at this size: right after a fill, etcd is still settling (its Go GC after a
                // gigabyte of puts, backend commits), which would otherwise land on whichever side goes first.
                await Settle.DiskAsync(cancellationToken);
                (await console.RunAsync(cancellationToken)).Delete();
                (await request!.RunAsync(cancellationToken)).Delete();
                (await etcdctl.RunAsync(cancellationToken)).Delete();
                var etcdPid = etcd.Pid.ToString(CultureInfo.InvariantCulture);
                results.Add(await MeasureAsync(size, dbSize, options.Runs, etcdPid, console, request!, etcdctl, cancellationToken));
                if (s3rver is not null)
                {
                    targetResults.AddRange(await MeasureTargetsAsync(size, options.S3Runs, modes, targets, etcdPid, s3rver, cancellationToken));
                }
            }

            return new BenchResults(results, targetResults, options) { Sealing = sealingResults };
        }
        finally
        {
            try
            {
                request?.Dispose();
                s3?.Dispose();
                if (s3rver is not null)
                {
                    await s3rver.DisposeAsync();
                }
            }
            finally
            {
                if (etcd is not null)
                {
                    await etcd.DisposeAsync();
                }

                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>
    /// Rounds of local, s3 and local+s3, the order rotating each round (local first, then s3 first, then local+s3
    /// first, ...), each snapshot under a fresh name, checked in every store it went to and then deleted from them.
    /// Before each run: the disk settles, the heap is shrunk, and VmHWM is reset; the run's RSS growth is its peak
    /// (VmHWM or the 10 ms VmRSS poll, the larger) over the resident set right before it. A mode's figure is the
    /// largest growth of any of its runs.
    /// </summary>
    private static async Task<IReadOnlyList<TargetsResult>> MeasureTargetsAsync(
        int targetMiB, int runs, IReadOnlyList<TargetMode> modes, TargetSnapshotPath path, string etcdPid, S3rverProcess s3rver, CancellationToken cancellationToken)
    {
        var seconds = modes.ToDictionary(m => m.Label, _ => new List<double>());
        var streamSeconds = modes.ToDictionary(m => m.Label, _ => new List<double>());
        var growth = modes.ToDictionary(m => m.Label, _ => 0L);
        long snapshotBytes = 0;
        var s3rverPid = s3rver.Pid.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < runs; i++)
        {
            for (var j = 0; j < modes.Count; j++)
            {
                var mode = modes[(i + j) % modes.Count];
                await Settle.DiskAsync(cancellationToken);
                Rss.ShrinkHeap();
                var baseline = Rss.Current();
                var hwmReset = Rss.TryResetHighWaterMark();
                var self = CpuTime.Of("self");
                var server = CpuTime.Of(etcdPid);
                var store = CpuTime.Of(s3rverPid);
                TargetRun run;
                SnapshotName name;
                long peak;
                using (var sampler = RssSampler.Start())
                {
                    (run, name) = await path.RunAsync(mode, cancellationToken);
                    peak = Math.Max(sampler.Stop(), hwmReset ? Rss.HighWaterMark() : 0);
                }

                run = run with
                {
                    ClientCpu = (CpuTime.Of("self") - self).Own,
                    EtcdCpu = (CpuTime.Of(etcdPid) - server).Own,
                    S3rverCpu = (CpuTime.Of(s3rverPid) - store).Own,
                    BaselineRss = baseline,
                    PeakRss = peak,
                };
                await TargetSnapshotPath.VerifyAndDeleteAsync(mode, name, run.Size, run.Sha256, cancellationToken);
                if (s3rver.HasExited)
                {
                    throw new InvalidOperationException("s3rver exited during the benchmark");
                }

                snapshotBytes = run.Size;
                seconds[mode.Label].Add(run.Seconds);
                streamSeconds[mode.Label].Add(run.StreamSeconds);
                growth[mode.Label] = Math.Max(growth[mode.Label], peak - baseline);
                Log($"{targetMiB} MiB round {i + 1}/{runs} {mode.Label,-8}: {run.Seconds:0.000} s ({run.StreamSeconds:0.000} streaming + {run.Seconds - run.StreamSeconds:0.000} completing), {run.Size:N0} bytes; cpu: console {run.ClientCpu:0.00} s, etcd {run.EtcdCpu:0.00} s, s3rver {run.S3rverCpu:0.00} s; RSS {baseline / 1e6:0.0} -> {peak / 1e6:0.0} MB (+{(peak - baseline) / 1e6:0.0})");
            }
        }

        return [.. modes.Select(m => new TargetsResult(targetMiB, m.Label, snapshotBytes, seconds[m.Label], streamSeconds[m.Label], growth[m.Label]))];
    }

    /// <summary>
    /// Rounds of the console's pipeline, the full backup run (request to finished record) and etcdctl, the order rotating
    /// each round. The RSS figures cover all three (etcdctl is a child process, so only the console's side counts).
    /// </summary>
    private static async Task<SizeResult> MeasureAsync(
        int targetMiB, long dbSize, int runs, string etcdPid, ConsoleSnapshotPath console, BackupRunPath request, EtcdctlSnapshotPath etcdctl, CancellationToken cancellationToken)
    {
        var requestSeconds = new List<double>();
        var recordSeconds = new List<double>();
        var requestCpu = new List<double>();
        var consoleSeconds = new List<double>();
        var etcdctlSeconds = new List<double>();
        var cpu = new SnapshotCpu(new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var match = true;
        long snapshotBytes = 0;

        // Baseline: this process's resident set right before the console's snapshots at this size, with the heap as
        // small as the GC can make it (the fill's 1 MiB values are garbage by now). The peak is the larger of
        // VmHWM (reset here, so it covers the paired runs below) and a 10 ms VmRSS poll. etcdctl runs as a child
        // process, so only the console's side of each pair is in these figures.
        Rss.ShrinkHeap();
        var baseline = Rss.Current();
        var hwmReset = Rss.TryResetHighWaterMark();
        long peak;
        using (var sampler = RssSampler.Start())
        {
            for (var i = 0; i < runs; i++)
            {
                var files = new Dictionary<string, SnapshotFile>(StringComparer.Ordinal);
                // The request (BackupRunner) goes first in every round: it writes the drills' canary key just before
                // its snapshot, and a write between the other two would make their files differ. The pipeline and
                // etcdctl alternate which goes first after it.
                files["request"] = await WithCpuAsync(request.RunAsync, etcdPid, cancellationToken);
                Func<CancellationToken, Task<SnapshotFile>>[] sides = [console.RunAsync, etcdctl.RunAsync];
                string[] labels = ["pipeline", "etcdctl"];
                for (var j = 0; j < sides.Length; j++)
                {
                    var k = (i + j) % sides.Length;
                    files[labels[k]] = await WithCpuAsync(sides[k], etcdPid, cancellationToken);
                }

                var ours = files["pipeline"];
                var run = files["request"];
                var theirs = files["etcdctl"];
                match &= run.Size == theirs.Size && run.Footer == theirs.Footer;
                requestSeconds.Add(run.Seconds);
                recordSeconds.Add(run.RecordSeconds ?? double.NaN);
                requestCpu.Add(run.ClientCpu);
                var same = ours.Size == theirs.Size && ours.Footer == theirs.Footer;
                match &= same;
                snapshotBytes = ours.Size;
                consoleSeconds.Add(ours.Seconds);
                etcdctlSeconds.Add(theirs.Seconds);
                ((List<double>)cpu.Console).Add(ours.ClientCpu);
                ((List<double>)cpu.Etcdctl).Add(theirs.ClientCpu);
                ((List<double>)cpu.EtcdForConsole).Add(ours.ServerCpu);
                ((List<double>)cpu.EtcdForEtcdctl).Add(theirs.ServerCpu);
                Log($"{targetMiB} MiB run {i + 1}/{runs} (request, then {labels[i % sides.Length]} first): request to record {run.Seconds:0.000} s (record {run.RecordSeconds:0.000} s; phases from the request: {string.Join(", ", run.Phases.Select(p => $"{p.Phase} {p.Seconds:0.000}"))}; cpu {run.ClientCpu:0.00} s)");
                Log($"    pipeline {ours.Seconds:0.000} s ({ours.StreamSeconds:0.000} streaming + {ours.Seconds - ours.StreamSeconds:0.000} fsync/rename/manifest), etcdctl {theirs.Seconds:0.000} s, {ours.Size:N0} vs {theirs.Size:N0} bytes, footers {(ours.Footer == theirs.Footer ? "equal" : "DIFFER")}");
                Log($"    cpu: console {ours.ClientCpu:0.00} s + etcd {ours.ServerCpu:0.00} s; etcdctl {theirs.ClientCpu:0.00} s + etcd {theirs.ServerCpu:0.00} s");
                ours.Delete();
                run.Delete();
                theirs.Delete();
            }

            peak = Math.Max(sampler.Stop(), hwmReset ? Rss.HighWaterMark() : 0);
        }

        return new SizeResult(targetMiB, dbSize, snapshotBytes, consoleSeconds, etcdctlSeconds, match, baseline, peak)
        {
            Cpu = cpu,
            RequestSeconds = requestSeconds,
            RecordSeconds = recordSeconds,
            RequestCpu = requestCpu,
        };
    }

    /// <summary>
    /// One timed snapshot after the disk has settled, with the CPU it cost: this process's own for the console (its
    /// client runs in here), reaped children's for etcdctl, and etcd's for both.
    /// </summary>
    private static async Task<SnapshotFile> WithCpuAsync(Func<CancellationToken, Task<SnapshotFile>> run, string etcdPid, CancellationToken cancellationToken)
    {
        await Settle.DiskAsync(cancellationToken);
        var self = CpuTime.Of("self");
        var server = CpuTime.Of(etcdPid);
        var file = await run(cancellationToken);
        var selfUsed = CpuTime.Of("self") - self;
        var serverUsed = CpuTime.Of(etcdPid) - server;
        return file with { ClientCpu = file.StreamSeconds is null ? selfUsed.Children : selfUsed.Own, ServerCpu = serverUsed.Own };
    }

    internal static async Task<string> WaitForLeaderAsync(EtcdClusterClient client, Uri endpoint, EtcdProcess etcd, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (etcd.HasExited)
            {
                throw new InvalidOperationException($"etcd exited at start-up:\n{etcd.LogTail()}");
            }

            try
            {
                var status = await client.StatusAsync(endpoint, cancellationToken);
                if (status.Leader != 0)
                {
                    return status.Version;
                }
            }
            catch (EtcdException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"etcd did not elect itself leader within 30 s:\n{etcd.LogTail()}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    public static void Log(FormattableString message) =>
        System.Console.WriteLine("  " + message.ToString(CultureInfo.InvariantCulture));
}
