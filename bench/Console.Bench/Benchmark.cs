using System.Globalization;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Storage;
using Microsoft.Extensions.Options;

namespace Console.Bench;

internal sealed record BenchOptions(IReadOnlyList<int> SizesMiB, int Runs, string EtcdBinary, string EtcdctlBinary)
{
    public static BenchOptions Parse(string[] args)
    {
        IReadOnlyList<int> sizes = [256, 1024];
        var runs = 7;
        var etcd = "etcd";
        var etcdctl = "etcdctl";
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
                default:
                    throw Usage($"unknown argument {args[i]}");
            }

            i++;
        }

        return runs < 1 || sizes.Count == 0 || sizes.Any(s => s < 1)
            ? throw Usage("--runs and every size must be at least 1")
            : new BenchOptions(sizes, runs, etcd, etcdctl);
    }

    private static ArgumentException Usage(string problem) =>
        new($"{problem}. Usage: Console.Bench [--sizes 256,1024] [--runs 7] [--etcd etcd] [--etcdctl etcdctl]");
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
}

internal static class Benchmark
{
    public const long MiB = 1024 * 1024;

    public static async Task<IReadOnlyList<SizeResult>> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("console-bench-").FullName;
        EtcdProcess? etcd = null;
        try
        {
            var ports = FreePorts.Pick(2);
            var layout = new EtcdMemberLayout("bench", ports[0], ports[1], Path.Combine(root, "etcd", "bench"));
            etcd = EtcdProcess.Start(options.EtcdBinary, layout, EtcdMemberLayout.InitialCluster([layout]), "console-bench", ["--quota-backend-bytes=8589934592"]);
            var endpoint = layout.ClientUrl;
            var spec = new ClusterSpec(ClusterName.Parse("bench"), [endpoint], null, null, []);
            using var client = new EtcdClient(spec, TimeSpan.FromSeconds(30));
            var version = await WaitForLeaderAsync(client, endpoint, etcd, cancellationToken);
            Log($"etcd {version} (pid {etcd.Pid}) on {endpoint}, data and snapshots under {root}");

            var snapshots = Path.Combine(root, "snapshots");
            Directory.CreateDirectory(snapshots);
            var settings = new ConsoleSettings { DataDir = root, Storage = new StorageSettings { Local = new LocalStorageSettings { Dir = snapshots } } };
            var console = new ConsoleSnapshotPath(spec, endpoint, new LocalSnapshotStore(Options.Create(settings)));
            var etcdctl = new EtcdctlSnapshotPath(options.EtcdctlBinary, endpoint, snapshots);

            // One unmeasured pair on the near-empty store, so JIT compilation of the console's path and the first
            // start of etcdctl's binary from disk are not in the figures (the console is a long-running process).
            (await console.RunAsync(cancellationToken)).Delete();
            (await etcdctl.RunAsync(cancellationToken)).Delete();

            var filler = new Filler(client, endpoint);
            var results = new List<SizeResult>();
            foreach (var size in options.SizesMiB)
            {
                var started = DateTime.UtcNow;
                var dbSize = await filler.FillToAsync(size * MiB, cancellationToken);
                Log($"filled to {dbSize / (double)MiB:0.0} MiB ({filler.Keys} keys of 1 MiB) in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");

                // One unmeasured pair at this size: right after a fill, etcd is still settling (its Go GC after a
                // gigabyte of puts, backend commits), which would otherwise land on whichever side goes first.
                await Settle.DiskAsync(cancellationToken);
                (await console.RunAsync(cancellationToken)).Delete();
                (await etcdctl.RunAsync(cancellationToken)).Delete();
                results.Add(await MeasureAsync(size, dbSize, options.Runs, etcd.Pid.ToString(CultureInfo.InvariantCulture), console, etcdctl, cancellationToken));
            }

            return results;
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

    private static async Task<SizeResult> MeasureAsync(int targetMiB, long dbSize, int runs, string etcdPid, ConsoleSnapshotPath console, EtcdctlSnapshotPath etcdctl, CancellationToken cancellationToken)
    {
        var consoleSeconds = new List<double>();
        var etcdctlSeconds = new List<double>();
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
                SnapshotFile ours;
                SnapshotFile theirs;
                if (i % 2 == 0)
                {
                    ours = await WithCpuAsync(console.RunAsync, etcdPid, cancellationToken);
                    theirs = await WithCpuAsync(etcdctl.RunAsync, etcdPid, cancellationToken);
                }
                else
                {
                    theirs = await WithCpuAsync(etcdctl.RunAsync, etcdPid, cancellationToken);
                    ours = await WithCpuAsync(console.RunAsync, etcdPid, cancellationToken);
                }

                var same = ours.Size == theirs.Size && ours.Footer == theirs.Footer;
                match &= same;
                snapshotBytes = ours.Size;
                consoleSeconds.Add(ours.Seconds);
                etcdctlSeconds.Add(theirs.Seconds);
                Log($"{targetMiB} MiB run {i + 1}/{runs} ({(i % 2 == 0 ? "console first" : "etcdctl first")}): console {ours.Seconds:0.000} s ({ours.StreamSeconds:0.000} streaming + {ours.Seconds - ours.StreamSeconds:0.000} fsync/rename/manifest), etcdctl {theirs.Seconds:0.000} s, {ours.Size:N0} vs {theirs.Size:N0} bytes, footers {(ours.Footer == theirs.Footer ? "equal" : "DIFFER")}");
                Log($"    cpu: console {ours.ClientCpu:0.00} s + etcd {ours.ServerCpu:0.00} s; etcdctl {theirs.ClientCpu:0.00} s + etcd {theirs.ServerCpu:0.00} s");
                ours.Delete();
                theirs.Delete();
            }

            peak = Math.Max(sampler.Stop(), hwmReset ? Rss.HighWaterMark() : 0);
        }

        return new SizeResult(targetMiB, dbSize, snapshotBytes, consoleSeconds, etcdctlSeconds, match, baseline, peak);
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

    private static async Task<string> WaitForLeaderAsync(EtcdClient client, Uri endpoint, EtcdProcess etcd, CancellationToken cancellationToken)
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
