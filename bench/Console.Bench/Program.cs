// The console's snapshot path (EtcdClient.SnapshotAsync into a LocalSnapshotWriter, then CompleteAsync: .part file,
// fsync, rename, directory fsync, manifest) against `etcdctl snapshot save` (which also writes a .part file, fsyncs
// and renames), on one local etcd filled to each size in turn, plus the console's peak RSS growth while it snapshots.
//
//   bench/run.sh                        # 256 MiB and 1024 MiB, 7 paired runs each
//   bench/run.sh --sizes 64 --runs 3    # a quick check
using System.Globalization;
using System.Runtime.InteropServices;
using Console.Bench;

var options = BenchOptions.Parse(args);
using var cancel = new CancellationTokenSource();

// Ctrl+C or a kill: stop measuring and let the finally blocks stop etcd and remove the temporary directory.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

IReadOnlyList<SizeResult> results;
try
{
    results = await Benchmark.RunAsync(options, cancel.Token);
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    System.Console.Error.WriteLine("interrupted; etcd stopped and its temporary directory removed");
    return 130;
}

System.Console.WriteLine();
System.Console.WriteLine(Report.Table(results));
foreach (var result in results)
{
    System.Console.WriteLine(Report.RssLine(result));
}

System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"same size and sha256 footer (console vs etcdctl): {string.Join(", ", results.Select(r => $"{r.Label} {(r.FilesMatch ? "yes" : "NO")}"))}"));
return results.All(r => r.FilesMatch) ? 0 : 1;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}
