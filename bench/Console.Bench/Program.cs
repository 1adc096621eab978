// The console's snapshot path (the product's SnapshotPipeline into the local store: stream, verify, .part file, fsync,
// rename, directory fsync, manifest) and the product's whole BackupRunner run from the request to the finished record
// (member choice, records, pipeline, retention), against `etcdctl snapshot save` (which also writes a .part file,
// fsyncs and renames), on one local etcd filled to each size in turn, plus the console's peak RSS growth while it snapshots.
// Then, at each size, the same path to local only, S3 only (s3rver, a Node S3 server, on loopback) and local + S3
// (teed, as BackupRunner does), in rotating order, with each mode's peak RSS growth.
//
//   bench/run.sh                        # 256 MiB and 1024 MiB, 7 paired runs each
//   bench/run.sh --sizes 64 --runs 3    # a quick check
//   bench/run.sh --s3-runs 0            # without the S3 section
//   bench/run.sh --sealing --data k8s --sizes 256 --runs 5   # raw, zstd, zstd+age to local, s3, both (issue 15)
//   bench/run.sh --continuous           # continuous backup: RPO and the watcher's CPU at 1,000 and 5,000 writes/s (issue 16)
//   bench/run.sh --replay --revisions 50000 --runs 2   # point-in-time replay speed (issue 16); --scratch DIR: replay data dir's parent
//   bench/run.sh --drill --sizes 256,1024 --runs 3 [--sealed]   # restore drills (issue 17): drill time, RTO, CPU beside a
//                                       # restore by hand, and a backup's time with a drill running beside it
//   bench/run.sh --dashboard            # only the Backups dashboard over 100,000 records on SQLite (no etcd needed)
//   bench/run.sh --dashboard --records 1000000 --provider both   # inserts, aggregates and first render, SQLite beside PostgreSQL 15
using System.Globalization;
using System.Runtime.InteropServices;
using Console.Bench;

if (args.Length >= 4 && args[0] == "--continuous-writer")
{
    return await ContinuousBench.WriterAsync(new Uri(args[1]), int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
}

if (args.Contains("--continuous"))
{
    string? Option(string name) => Array.IndexOf(args, name) is var at and >= 0 ? args[at + 1] : null;
    var rates = (Option("--rates") ?? "1000,5000").Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToList();
    using var stop = new CancellationTokenSource();
    return await ContinuousBench.RunAsync(Option("--etcd") ?? "etcd", Option("--etcdctl") ?? "etcdctl", rates, int.Parse(Option("--seconds") ?? "30", CultureInfo.InvariantCulture), stop.Token);
}

if (args.Contains("--dashboard"))
{
    string? Option(string name) => Array.IndexOf(args, name) is var at and >= 0 ? args[at + 1] : null;
    var provider = Option("--provider") ?? "sqlite";
    string[] providers = provider switch
    {
        "both" => ["sqlite", "postgres"],
        "sqlite" or "postgres" => [provider],
        _ => throw new ArgumentException($"--provider is sqlite, postgres or both, not '{provider}'"),
    };
    return await DashboardBench.RunAsync(
        int.Parse(Option("--runs") ?? "21", CultureInfo.InvariantCulture),
        long.Parse(Option("--records") ?? "100000", CultureInfo.InvariantCulture),
        providers);
}

if (args.Contains("--drill"))
{
    // Restore drills (issue 17): see DrillBench.
    string? Option(string name) => Array.IndexOf(args, name) is var at and >= 0 ? args[at + 1] : null;
    var sizes = (Option("--sizes") ?? "256,1024").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
    var runs = int.Parse(Option("--runs") ?? "3", CultureInfo.InvariantCulture);
    if (runs < 1 || sizes.Any(s => s < 1))
    {
        throw new ArgumentException("--runs and every size (MiB) must be at least 1");
    }

    using var stopDrill = new CancellationTokenSource();
    using var onDrillInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stopDrill.Cancel(); });
    using var onDrillTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stopDrill.Cancel(); });
    return await DrillBench.RunAsync(Option("--etcd") ?? "etcd", Option("--etcdctl") ?? "etcdctl", sizes, runs, args.Contains("--sealed"), stopDrill.Token);
}

if (args.Contains("--replay"))
{
    // Point-in-time replay speed (issue 16): see ReplayBench.
    string? Option(string name) => Array.IndexOf(args, name) is var at and >= 0 ? args[at + 1] : null;
    using var stopReplay = new CancellationTokenSource();
    return await ReplayBench.RunAsync(
        Option("--etcd") ?? "etcd",
        int.Parse(Option("--revisions") ?? "50000", CultureInfo.InvariantCulture),
        int.Parse(Option("--runs") ?? "2", CultureInfo.InvariantCulture),
        Option("--scratch"),
        stopReplay.Token);
}

var options = BenchOptions.Parse(args);
using var cancel = new CancellationTokenSource();

// Ctrl+C or a kill: stop measuring and let the finally blocks stop etcd and s3rver and remove the temporary directory.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

// The machine's load beside the figures: on a shared machine it moves them more than anything measured here.
var loadAtStart = File.ReadAllText("/proc/loadavg").Trim();
BenchResults all;
try
{
    all = await Benchmark.RunAsync(options, cancel.Token);
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    System.Console.Error.WriteLine("interrupted; etcd and s3rver stopped and the temporary directory removed");
    return 130;
}

if (options.Sealing)
{
    System.Console.WriteLine();
    System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sealed snapshots, {options.Data} data (seed {options.Seed}), {options.Runs} rounds in rotating order; S3 is s3rver on loopback (part size {options.PartSizeMiB} MiB, {options.ParallelParts} parts in parallel); CPU is the console's (etcdctl's own on its line):"));
    System.Console.WriteLine(Report.SealingTable(all.Sealing));
    System.Console.WriteLine(Report.SealingGoals(all.Sealing, options.Data));
    System.Console.WriteLine($"load average (1, 5, 15 min; /proc/loadavg, {Environment.ProcessorCount} cores): {loadAtStart} at the start, {File.ReadAllText("/proc/loadavg").Trim()} at the end");

    return 0;
}

var results = all.Sizes;
System.Console.WriteLine();
System.Console.WriteLine(Report.Table(results));
System.Console.WriteLine();
System.Console.WriteLine(Report.CpuTable(results));
System.Console.WriteLine();
System.Console.WriteLine("request to finished record (the product's BackupRunner run, as an API request starts it) beside etcdctl snapshot save:");
System.Console.WriteLine(Report.RequestTable(results));
foreach (var result in results)
{
    System.Console.WriteLine(Report.RssLine(result));
}

System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"same size and sha256 footer (console vs etcdctl): {string.Join(", ", results.Select(r => $"{r.Label} {(r.FilesMatch ? "yes" : "NO")}"))}"));
if (all.Targets.Count > 0)
{
    System.Console.WriteLine();
    System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"snapshot to local only, S3 only (s3rver on loopback; part size {options.PartSizeMiB} MiB, {options.ParallelParts} parts in parallel) and local + S3, {options.S3Runs} rounds in rotating order:"));
    System.Console.WriteLine(Report.TargetsTable(all.Targets));
}

return results.All(r => r.FilesMatch) ? 0 : 1;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}
