using System.Globalization;
using System.Text;

namespace Console.Bench;

internal static class Report
{
    private const double MB = 1_000_000;

    /// <summary>ratio: console median / etcdctl median. paired: the median of each pair's console / etcdctl.</summary>
    public static string Table(IReadOnlyList<SizeResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("DB size   snapshot   runs  console median  etcdctl median  ratio  paired  console MB/s  etcdctl MB/s");
        foreach (var r in results)
        {
            var ours = Median(r.ConsoleSeconds);
            var theirs = Median(r.EtcdctlSeconds);
            text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{r.Label,-9} {r.SnapshotBytes / MB,6:0} MB  {r.ConsoleSeconds.Count,4}  {ours,12:0.000} s  {theirs,12:0.000} s  {ours / theirs,5:0.00}  {Median([.. r.ConsoleSeconds.Zip(r.EtcdctlSeconds, (c, e) => c / e)]),6:0.00}  {r.SnapshotBytes / MB / ours,12:0}  {r.SnapshotBytes / MB / theirs,12:0}"));
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>
    /// What an operator waits for: the product's whole backup run from the request to the finished record (member
    /// choice, records, pipeline, manifest, retention), its record's own duration, etcdctl's time in the same rounds,
    /// the median of each round's request / etcdctl, and the console's CPU seconds per GiB for the whole run.
    /// </summary>
    public static string RequestTable(IReadOnlyList<SizeResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("DB size   runs  request to record  record itself  etcdctl median  paired ratio  CPU s/GiB: run  etcdctl");
        foreach (var r in results)
        {
            var gib = r.SnapshotBytes / (1024.0 * 1024 * 1024);
            text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{r.Label,-9} {r.RequestSeconds.Count,4}  {Median(r.RequestSeconds),15:0.000} s  {Median(r.RecordSeconds),11:0.000} s  {Median(r.EtcdctlSeconds),12:0.000} s  {Median([.. r.RequestSeconds.Zip(r.EtcdctlSeconds, (q, e) => q / e)]),12:0.00}  {Median(r.RequestCpu) / gib,14:0.00}  {Median(r.Cpu.Etcdctl) / gib,7:0.00}"));
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>
    /// The targets section: median wall time per mode (client created to every writer completed), throughput, the
    /// local median over the mode's (so "vs local" above 1 is faster than local only), the median time spent completing
    /// (after the last chunk: the final parts and CompleteAsync of each writer), and the largest RSS growth of any run.
    /// </summary>
    public static string TargetsTable(IReadOnlyList<TargetsResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("DB size   mode      runs    median   MB/s  vs local  completing  peak RSS growth");
        foreach (var r in results)
        {
            var median = Median(r.Seconds);
            var local = Median(results.Single(l => l.TargetMiB == r.TargetMiB && l.Mode == "local").Seconds);
            var completing = Median([.. r.Seconds.Zip(r.StreamSeconds, (total, streamed) => total - streamed)]);
            text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{r.Label,-9} {r.Mode,-8}  {r.Seconds.Count,4}  {median,6:0.000} s  {r.SnapshotBytes / MB / median,5:0}  {local / median,8:0.00}  {completing,8:0.000} s  {r.PeakRssGrowthBytes / MB,12:0.0} MB"));
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>
    /// CPU seconds (user + system) per GiB of snapshot, median over the paired runs: the console's client (this
    /// process) beside etcdctl's (a child process), and etcd's own while serving each of them.
    /// </summary>
    public static string CpuTable(IReadOnlyList<SizeResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("DB size   CPU s/GiB: console  etcdctl  ratio   etcd serving console  etcd serving etcdctl");
        foreach (var r in results)
        {
            var gib = r.SnapshotBytes / (1024.0 * 1024 * 1024);
            var ours = Median(r.Cpu.Console) / gib;
            var theirs = Median(r.Cpu.Etcdctl) / gib;
            text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{r.Label,-9} {ours,17:0.00}  {theirs,7:0.00}  {ours / theirs,5:0.00}  {Median(r.Cpu.EtcdForConsole) / gib,20:0.00}  {Median(r.Cpu.EtcdForEtcdctl) / gib,20:0.00}"));
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>
    /// The sealing matrix: per mode and target, the median wall time, MB/s of etcd data (the raw snapshot's bytes over
    /// the wall time, whatever was stored), the stored size and raw / stored, the console's CPU seconds (etcdctl's own
    /// on its line) and per GiB of etcd data, and how the cell compares with today's path (raw to local).
    /// </summary>
    public static string SealingTable(IReadOnlyList<SealingResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("DB size   mode      target    runs   median    MB/s  stored MB  raw/stored   CPU s  CPU s/GiB  vs raw local");
        foreach (var r in results)
        {
            var median = Median(r.Seconds);
            var rawLocal = Median(RawLocal(results, r.TargetMiB).Seconds);
            var cpu = Median(r.Cpu);
            text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{r.Label,-9} {r.Mode,-8}  {r.Target,-8}  {r.Seconds.Count,4}  {median,6:0.000} s  {r.RawBytes / MB / median,5:0}  {r.StoredBytes / MB,9:0.0}  {(double)r.RawBytes / r.StoredBytes,10:0.00}  {cpu,6:0.00}  {cpu / (r.RawBytes / (1024.0 * 1024 * 1024)),9:0.00}  {rawLocal / median,12:0.00}"));
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>The issue's goals beside the figures, for the data set measured (not asserted: a loaded machine moves them).</summary>
    public static string SealingGoals(IReadOnlyList<SealingResult> results, string data)
    {
        var text = new StringBuilder();
        foreach (var size in results.Select(r => r.TargetMiB).Distinct())
        {
            var rawLocal = Median(RawLocal(results, size).Seconds);
            SealingResult? Cell(string mode, string target) => results.SingleOrDefault(r => r.TargetMiB == size && r.Mode == mode && r.Target == target);
            void Goal(string what, double value, double goal, bool higherIsBetter, string unit) => text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{size} MiB {data}: {what}: {value:0.00}{unit} (goal {(higherIsBetter ? ">=" : "<")} {goal:0.00}{unit}): {((higherIsBetter ? value >= goal : value < goal) ? "met" : "NOT met")}"));
            if (data == "k8s" && Cell("zstd", "s3") is { } zstdS3)
            {
                Goal("zstd S3-only speed / raw local-only speed", rawLocal / Median(zstdS3.Seconds), 1.0, true, "x");
            }

            if (data == "random" && Cell("raw", "s3") is { } rawS3)
            {
                Goal("raw S3-only speed / raw local-only speed (s3rver)", rawLocal / Median(rawS3.Seconds), 0.75, true, "x");
            }

            foreach (var sealedCell in results.Where(r => r.TargetMiB == size && r.Mode == "zstd+age"))
            {
                var zstd = Cell("zstd", sealedCell.Target)!;
                Goal($"CPU age adds over zstd, {sealedCell.Target}", ((Median(sealedCell.Cpu) / Median(zstd.Cpu)) - 1) * 100, 15, false, " %");
            }
        }

        return text.ToString().TrimEnd();
    }

    private static SealingResult RawLocal(IReadOnlyList<SealingResult> results, int size) =>
        results.Single(r => r.TargetMiB == size && r.Mode == "raw" && r.Target == "local");

    public static string RssLine(SizeResult r) => string.Create(
        CultureInfo.InvariantCulture,
        $"console peak RSS growth during the {r.Label} snapshots: {(r.PeakRssBytes - r.BaselineRssBytes) / MB:0.0} MB (baseline {r.BaselineRssBytes / MB:0.0} MB, peak {r.PeakRssBytes / MB:0.0} MB)");

    /// <summary>The dashboard bench's providers side by side: seconds for loading, milliseconds (medians) for the rest.</summary>
    public static string DashboardTable(long records, IReadOnlyList<DashboardResult> results)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{records:N0} records{"",-32}");
        foreach (var r in results)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {r.Provider,-25}");
        }

        text.AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"{"",-48}");
        foreach (var _ in results)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {"wall",11}  {"CPU",11}");
        }

        text.AppendLine();
        void Row(string label, Func<DashboardResult, Timing> timing, double scale, string unit)
        {
            var format = unit == "ms" ? "0.0" : "0.00";
            text.Append(CultureInfo.InvariantCulture, $"{label,-48}");
            foreach (var r in results)
            {
                var t = timing(r);
                text.Append(CultureInfo.InvariantCulture, $"  {(t.Wall / scale).ToString(format, CultureInfo.InvariantCulture),9} {unit}  {(t.Cpu / scale).ToString(format, CultureInfo.InvariantCulture),9} {unit}");
            }

            text.AppendLine();
        }

        var first = results[0];
        Row($"bulk load of {records - first.StoreInserts:N0} records (seeding path)", r => r.BulkRecords, 1000, "s ");
        Row($"record inserts, product's store ({first.StoreInserts:N0})", r => r.Inserts, 1000, "s ");
        Row("  per record (insert + update)", r => new Timing(r.Inserts.Wall / r.StoreInserts, r.Inserts.Cpu / r.StoreInserts), 1, "ms");
        Row($"bulk load of copies (+ PostgreSQL's analyze)", r => r.BulkCopies, 1000, "s ");
        foreach (var query in first.Queries.Keys)
        {
            Row(query, r => r.Queries[query], 1, "ms");
        }

        Row("first render (GET /backups + grid's first page)", r => r.Render, 1, "ms");
        return text.ToString().TrimEnd();
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
