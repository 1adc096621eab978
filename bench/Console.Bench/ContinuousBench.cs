using System.Diagnostics;
using System.Globalization;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Storage;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Console.Bench;

/// <summary>
/// Continuous backup (issue 16): a sandbox-like 3-member etcd, the product's <see cref="ContinuousBackupService"/> built
/// as the console builds it (its own SQLite ledger, the local target, FlushInterval 1 s), and a writer in a child
/// process at a fixed rate, after one unreported warm-up phase. RPO is sampled every 100 ms from the ledger (now − durable time). The watcher's CPU is this
/// process's (the watcher and the 10 Hz sampler; the writer runs in its own process, measured apart), and
/// <c>etcdctl watch</c> of the whole keyspace runs beside it under the same load as the reference, output to /dev/null.
/// </summary>
internal static class ContinuousBench
{
    private const string Cluster = "bench";

    public static async Task<int> RunAsync(string etcdBinary, string etcdctlBinary, IReadOnlyList<int> rates, int seconds, CancellationToken cancellationToken)
    {
        var root = Path.Combine(Path.GetTempPath(), $"console-bench-continuous-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var members = new List<EtcdProcess>();
        try
        {
            var ports = FreePorts.Pick(6);
            var layouts = Enumerable.Range(0, 3).Select(i => new EtcdMemberLayout($"m{i + 1}", ports[2 * i], ports[(2 * i) + 1], Path.Combine(root, $"m{i + 1}"))).ToList();
            members.AddRange(layouts.Select(l => EtcdProcess.Start(etcdBinary, l, EtcdMemberLayout.InitialCluster(layouts), "console-bench-continuous", ["--quota-backend-bytes=8589934592"])));
            var spec = new ClusterSpec(ClusterName.Parse(Cluster), [.. layouts.Select(l => l.ClientUrl)], null, null, [.. layouts.Select(l => new MemberSpec(l.Name, l.PeerUrl, l.DataDir, MemberControl.Manual))])
            {
                Backup = BackupPolicy.Default with { Continuous = new ContinuousPolicy(true, TimeSpan.FromSeconds(1), ContinuousPolicy.DefaultMaxSegmentBytes) },
            };
            await WaitForLeaderAsync(spec, cancellationToken);
            Log($"etcd 3-member cluster on {string.Join(", ", spec.Endpoints)}; data under {root}");

            var console = await BenchConsole.CreateAsync(spec, new ConsoleSettings { DataDir = Path.Combine(root, "console") }, cancellationToken);
            var (database, stores, replica, runner) = (console.Database, console.Stores, console.Replica, console.Runner);
            using var clients = console.Clients;
            var ledger = new DeltaLedger(database);
            using var service = new ContinuousBackupService(
                console.Catalog, clients, runner, ledger, new DeltaSegmentWriter(stores, ledger, TimeProvider.System), new DeltaPruning(stores, ledger, NullLogger<DeltaPruning>.Instance),
                new ClusterBackupLocks(database), replica, TimeProvider.System, NullLogger<ContinuousBackupService>.Instance);
            await service.StartAsync(cancellationToken);
            var start = Stopwatch.StartNew();
            while (await ledger.StateAsync(Cluster, cancellationToken) is null)
            {
                if (start.Elapsed > TimeSpan.FromMinutes(2))
                {
                    throw new TimeoutException("the watcher did not start within 2 minutes");
                }

                await Task.Delay(100, cancellationToken);
            }

            Log($"watcher started from its full snapshot after {start.Elapsed.TotalSeconds:F1} s");
            // One unreported phase first: JIT and first-use costs of the watcher's path would otherwise land on the first rate.
            await PhaseAsync(spec, ledger, etcdctlBinary, rates[0], Math.Min(seconds, 10), cancellationToken);
            var results = new List<Row>();
            foreach (var rate in rates)
            {
                results.Add(await PhaseAsync(spec, ledger, etcdctlBinary, rate, seconds, cancellationToken));
            }

            await service.StopAsync(CancellationToken.None);
            var segments = await ledger.SegmentsAsync(Cluster, CancellationToken.None);
            System.Console.WriteLine();
            System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"continuous backup, 3-member etcd on this machine, FlushInterval 1 s, local target; {seconds} s per rate; RPO = now − durable time sampled every 100 ms; CPU is user+system s:"));
            System.Console.WriteLine("target w/s  achieved w/s  RPO p50   RPO p99   RPO max   watcher CPU s  cores/1k w/s  etcdctl watch CPU s  cores/1k w/s  writer CPU s");
            foreach (var r in results)
            {
                System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Rate,10}  {r.Achieved,12:F0}  {r.P50,6:F2} s  {r.P99,6:F2} s  {r.Max,6:F2} s  {r.WatcherCpu,13:F2}  {r.WatcherCpu / r.Seconds / (r.Achieved / 1000),12:F3}  {r.EtcdctlCpu,19:F2}  {r.EtcdctlCpu / r.Seconds / (r.Achieved / 1000),12:F3}  {r.WriterCpu,12:F2}"));
            }

            System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"segments written: {segments.Count}, {segments.Sum(s => s.EventCount)} events, {segments.Sum(s => s.StoredSize) / 1e6:F1} MB stored"));
            var at1000 = results.FirstOrDefault(r => r.Rate == 1000);
            if (at1000 is not null)
            {
                System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RPO p99 at 1,000 writes/s: {at1000.P99:F2} s (goal <= 5 s): {(at1000.P99 <= 5 ? "met" : "NOT met")}"));
            }

            return 0;
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record Row(int Rate, double Achieved, double Seconds, double P50, double P99, double Max, double WatcherCpu, double EtcdctlCpu, double WriterCpu);

    private static async Task<Row> PhaseAsync(ClusterSpec spec, DeltaLedger ledger, string etcdctlBinary, int rate, int seconds, CancellationToken cancellationToken)
    {
        var endpoints = string.Join(',', spec.Endpoints.Select(e => e.ToString().TrimEnd('/')));
        using var reference = Process.Start(new ProcessStartInfo("bash", ["-c", $"exec {etcdctlBinary} --endpoints={endpoints} watch --prefix '' > /dev/null"]) { UseShellExecute = false })!;
        var writerInfo = new ProcessStartInfo("dotnet", [typeof(ContinuousBench).Assembly.Location, "--continuous-writer", spec.Endpoints[0].ToString(), rate.ToString(CultureInfo.InvariantCulture), seconds.ToString(CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        };
        var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var etcdctlBefore = CpuTime.Of(reference.Id.ToString(CultureInfo.InvariantCulture)).Own;
        var clock = Stopwatch.StartNew();
        using var writer = Process.Start(writerInfo)!;
        var output = writer.StandardOutput.ReadToEndAsync(cancellationToken);
        var rpo = new List<double>();
        while (!writer.HasExited)
        {
            var state = await ledger.StateAsync(Cluster, cancellationToken);
            if (state is not null)
            {
                rpo.Add((DateTimeOffset.UtcNow - state.DurableTime).TotalSeconds);
            }

            await Task.Delay(100, cancellationToken);
        }

        await writer.WaitForExitAsync(cancellationToken);
        var wall = clock.Elapsed.TotalSeconds;
        self.Refresh();
        var watcherCpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        var etcdctlCpu = CpuTime.Of(reference.Id.ToString(CultureInfo.InvariantCulture)).Own - etcdctlBefore;
        reference.Kill();
        var fields = (await output).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('=')).ToDictionary(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture));
        rpo.Sort();
        double At(double q) => rpo.Count == 0 ? double.NaN : rpo[Math.Min(rpo.Count - 1, (int)Math.Ceiling(q * rpo.Count) - 1)];
        var row = new Row(rate, fields["writes"] / fields["seconds"], wall, At(0.50), At(0.99), rpo.Count == 0 ? double.NaN : rpo[^1], watcherCpu, etcdctlCpu, fields["cpu"]);
        Log(string.Create(CultureInfo.InvariantCulture, $"{rate} w/s: achieved {row.Achieved:F0} w/s, RPO p50 {row.P50:F2} s p99 {row.P99:F2} s ({rpo.Count} samples)"));
        return row;
    }

    /// <summary>
    /// The child process: puts at <paramref name="rate"/> per second for <paramref name="seconds"/> (64 in flight, each
    /// 100-byte value to one of 10,000 keys), then prints writes, seconds and its own CPU seconds.
    /// </summary>
    public static async Task<int> WriterAsync(Uri endpoint, int rate, int seconds)
    {
        using var channel = GrpcChannel.ForAddress(endpoint);
        var kv = new KV.KVClient(channel);
        var value = ByteString.CopyFrom(new byte[100]);
        var total = (long)rate * seconds;
        long next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            long i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                var due = TimeSpan.FromSeconds((double)i / rate) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }

                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"/bench/k{i % 10000}"), Value = value });
            }
        }));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"writes={total} seconds={clock.Elapsed.TotalSeconds:F3} cpu={cpu:F3}"));
        return 0;
    }

    private static async Task WaitForLeaderAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        using var client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(2));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var statuses = await Task.WhenAll(spec.Endpoints.Select(e => client.StatusAsync(e, cancellationToken)));
                if (statuses.All(s => s.Leader != 0))
                {
                    return;
                }
            }
            catch (EtcdException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("etcd did not elect a leader within 60 s");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static void Log(string message) => System.Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {message}");
}
