using System.Diagnostics;
using System.Globalization;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Drills;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;

namespace Console.Bench;

/// <summary>
/// Restore drills (issue 17): a single-member etcd on loopback filled to each size (1 MiB values through the product's
/// client), backed up through the product's <see cref="Console.Infrastructure.Backups.BackupRunner"/> to the local
/// target (raw, or zstd+age with --sealed), then the product's <see cref="DrillService"/> drills the copy: its wall time,
/// the RTO its verdict records, and CPU seconds of this process and of the processes the drill started and reaped (the
/// restore tool and the throwaway etcd). The reference is the same raw file restored by hand in a shell
/// (<c>bench/drill-by-hand.sh</c>: etcdctl snapshot restore, etcd started, the first <c>etcdctl endpoint status</c> that
/// answers). Then the drill's cost to a backup running at the same time: a backup of the cluster alone, and a backup
/// started together with a drill of the run's first copy (the order alternating between rounds).
/// </summary>
internal static class DrillBench
{
    private const string Cluster = "bench";

    /// <summary>The reference line's script; bench/run.sh runs the benchmark from the repository's root.</summary>
    private static readonly string Script = Path.GetFullPath(Path.Combine("bench", "drill-by-hand.sh"));

    public static async Task<int> RunAsync(string etcdBinary, string etcdctlBinary, IReadOnlyList<int> sizes, int runs, bool sealedCopies, CancellationToken cancellationToken)
    {
        if (!File.Exists(Script))
        {
            throw new FileNotFoundException($"{Script} is missing: run the benchmark through bench/run.sh, from the repository's root");
        }

        var loadAtStart = File.ReadAllText("/proc/loadavg").Trim();
        var root = Directory.CreateTempSubdirectory("drill-bench-").FullName;
        EtcdProcess? etcd = null;
        try
        {
            var ports = FreePorts.Pick(2);
            var layout = new EtcdMemberLayout(Cluster, ports[0], ports[1], Path.Combine(root, "etcd", Cluster));
            etcd = EtcdProcess.Start(etcdBinary, layout, EtcdMemberLayout.InitialCluster([layout]), "console-bench-drill", ["--quota-backend-bytes=8589934592"]);
            var endpoint = layout.ClientUrl;
            var sealing = SnapshotSealing.None;
            var identities = new IdentitySettings();
            if (sealedCopies)
            {
                var (modes, _) = SealingBench.Modes(root);
                sealing = modes.Single(m => m.Label == "zstd+age").Sealing;
                identities = new IdentitySettings { IdentityFiles = [Path.Combine(root, "age-identity.txt")] };
            }

            var spec = new ClusterSpec(ClusterName.Parse(Cluster), [endpoint], null, null, []) { Backup = BackupPolicy.Default with { Sealing = sealing } };
            using var client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(30));
            var version = await Benchmark.WaitForLeaderAsync(client, endpoint, etcd, cancellationToken);
            var settings = new ConsoleSettings
            {
                DataDir = Path.Combine(root, "console"),
                Encryption = identities,
                Sandbox = new SandboxSettings { EtcdBinary = etcdBinary },
            };
            var console = await BenchConsole.CreateAsync(spec, settings, cancellationToken);
            using var clients = console.Clients;
            using var drills = console.Drills();
            var bench = new Bench(console, drills, etcd.Pid.ToString(CultureInfo.InvariantCulture), etcdctlBinary, etcdBinary, Path.Combine(root, "by-hand"));
            Benchmark.Log($"etcd {version} (pid {etcd.Pid}) on {endpoint}; copies {(sealedCopies ? "zstd+age" : "raw")} to the local target under {console.Store.Directory}; drill staging under {drills.Root}");

            // One unmeasured round on the near-empty store: JIT and the first start of each binary from disk.
            await bench.RoundAsync(0, 0, cancellationToken);

            var filler = new Filler(client, endpoint);
            var results = new List<SizeRounds>();
            foreach (var size in sizes)
            {
                var free = new DriveInfo(root).AvailableFreeSpace;
                if (free < 4L * size * Benchmark.MiB)
                {
                    Benchmark.Log($"{size} MiB skipped: {root} has {free / (double)Benchmark.MiB:N0} MiB free, less than the {4 * size:N0} MiB this size needs (etcd's data, copies, drill staging)");
                    continue;
                }

                var started = Stopwatch.StartNew();
                var dbSize = await filler.FillToAsync(size * Benchmark.MiB, cancellationToken);
                Benchmark.Log($"filled to {dbSize / (double)Benchmark.MiB:0.0} MiB ({filler.Describe()}) in {started.Elapsed.TotalSeconds:0.0} s; load average {File.ReadAllText("/proc/loadavg").Trim()}");
                var rounds = new List<Round>();
                for (var i = 1; i <= runs; i++)
                {
                    rounds.Add(await bench.RoundAsync(size, i, cancellationToken));
                }

                results.Add(new SizeRounds(size, rounds));
            }

            System.Console.WriteLine();
            System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"restore drills of {(sealedCopies ? "zstd+age" : "raw")} copies in the local target, single-member etcd {version}; medians of {runs} round(s); CPU is user + system s:"));
            System.Console.WriteLine(DrillTable(results));
            System.Console.WriteLine();
            System.Console.WriteLine("a backup of the same cluster alone, and started together with a drill of an earlier copy (CPU over the backup's run):");
            System.Console.WriteLine(ConcurrencyTable(results));
            System.Console.WriteLine($"load average (1, 5, 15 min; /proc/loadavg, {Environment.ProcessorCount} cores): {loadAtStart} at the start, {File.ReadAllText("/proc/loadavg").Trim()} at the end");
            return 0;
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

    private static string DrillTable(IReadOnlyList<SizeRounds> results)
    {
        // The by-hand line's RTO is its whole time, restore to first answer: the drill's RTO also runs from fetching
        // the copy to a serving member (fetch, footer and sha256, restore, start).
        var lines = new List<string> { "DB size   what                                          wall s    RTO s   CPU s (bench)   CPU s (etcd, restore tool)   source etcd CPU s" };
        foreach (var (size, rounds) in results)
        {
            double M(Func<Round, double> pick) => Report.Median([.. rounds.Select(pick)]);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{size,4} MiB  {"drill (product, copy in the local target)",-44} {M(r => r.Drill.Wall),7:0.00} {M(r => r.Rto),8:0.00} {M(r => r.Drill.Self),15:0.00} {M(r => r.Drill.Children),28:0.00} {M(r => r.Drill.Etcd),19:0.00}"));
            foreach (var phase in rounds[0].Phases.Keys)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{size,4} MiB  {"  of which " + phase,-44} {M(r => r.Phases.GetValueOrDefault(phase)),7:0.00}"));
            }

            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{size,4} MiB  {"by hand: restore, start, endpoint status",-44} {M(r => r.ByHand.Wall),7:0.00} {M(r => r.ByHand.Wall),8:0.00} {"",15} {M(r => r.ByHand.Children),28:0.00} {M(r => r.ByHand.Etcd),19:0.00}"));
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{size,4} MiB  {"  of which etcdctl snapshot restore",-44} {M(r => r.ByHandRestore),7:0.00}"));
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{size,4} MiB  {"  of which etcd start to endpoint status",-44} {M(r => r.ByHandServing),7:0.00}"));
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static string ConcurrencyTable(IReadOnlyList<SizeRounds> results)
    {
        var lines = new List<string> { "DB size   backup                 wall s   CPU s (bench)   CPU s (source etcd)   drill wall s" };
        foreach (var (size, rounds) in results)
        {
            double M(Func<Round, double> pick) => Report.Median([.. rounds.Select(pick)]);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{size,4} MiB  {"alone",-20} {M(r => r.Alone.Wall),8:0.00} {M(r => r.Alone.Self),15:0.00} {M(r => r.Alone.Etcd),20:0.00}"));
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{size,4} MiB  {"with a drill running",-20} {M(r => r.Beside.Wall),8:0.00} {M(r => r.Beside.Self),15:0.00} {M(r => r.Beside.Etcd),20:0.00} {M(r => r.DrillBeside),14:0.00}"));
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{size,4} MiB  backup wall with a drill / alone: {M(r => r.Beside.Wall / r.Alone.Wall):0.00}x (median of the rounds' ratios)"));
        }

        return string.Join(Environment.NewLine, lines);
    }

    private sealed record SizeRounds(int SizeMiB, IReadOnlyList<Round> Rounds);

    /// <summary>Wall seconds and CPU seconds: this process's own, its reaped children's, and the source etcd's.</summary>
    private sealed record Cost(double Wall, double Self, double Children, double Etcd);

    private sealed record Round(Cost Drill, double Rto, Cost ByHand, double ByHandRestore, double ByHandServing, Cost Alone, Cost Beside, double DrillBeside)
    {
        /// <summary>Seconds in each of the drill's phases, as the drill service reports them, in order.</summary>
        public IReadOnlyDictionary<string, double> Phases { get; init; } = new Dictionary<string, double>();
    }

    /// <summary>
    /// The drill's phases as its progress shows them (fetching, checking the footer, restoring, starting, checking):
    /// the time from each phase's start to the next one's, the last one's to the drill's end.
    /// </summary>
    private sealed class PhaseClock : IDisposable
    {
        private readonly DrillService _drills;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<(string Phase, double At)> _starts = [];

        public PhaseClock(DrillService drills)
        {
            _drills = drills;
            _drills.Changed += OnChanged;
        }

        public IReadOnlyDictionary<string, double> Durations { get; private set; } = new Dictionary<string, double>();

        public void Dispose()
        {
            _drills.Changed -= OnChanged;
            var end = _clock.Elapsed.TotalSeconds;
            Durations = _starts.Select((s, i) => (s.Phase, Seconds: (i + 1 < _starts.Count ? _starts[i + 1].At : end) - s.At))
                .GroupBy(p => p.Phase)
                .ToDictionary(g => g.Key, g => g.Sum(p => p.Seconds));
        }

        private void OnChanged()
        {
            if (_drills.Current?.Phase is { } phase && (_starts.Count == 0 || _starts[^1].Phase != phase))
            {
                _starts.Add((phase, _clock.Elapsed.TotalSeconds));
            }
        }
    }

    private sealed class Bench(BenchConsole console, DrillService drills, string etcdPid, string etcdctl, string etcd, string byHandRoot)
    {
        /// <summary>
        /// A backup, its drill, the by-hand reference on the same copy; then a backup alone and one beside a drill of
        /// the first copy (odd rounds alone first, even rounds beside first). Every copy is deleted at the end.
        /// </summary>
        public async Task<Round> RoundAsync(int sizeMiB, int round, CancellationToken cancellationToken)
        {
            var label = round == 0 ? "warm-up" : string.Create(CultureInfo.InvariantCulture, $"{sizeMiB} MiB round {round}");
            var names = new List<SnapshotName>();
            try
            {
                var (first, _) = await BackupAsync(cancellationToken);
                names.Add(first);

                DrillVerdict verdict = null!;
                var phases = new PhaseClock(drills);
                Cost drill;
                using (phases)
                {
                    drill = await MeasureAsync(async () => verdict = await DrillAsync(first, cancellationToken), cancellationToken);
                }

                var rto = verdict.Rto?.TotalSeconds ?? double.NaN;
                Benchmark.Log($"{label}: drill {drill.Wall:0.00} s, RTO {rto:0.00} s, cpu bench {drill.Self:0.00} s + etcd/restore {drill.Children:0.00} s: {verdict.Reason}");
                Benchmark.Log($"{label}: drill phases {string.Join(", ", phases.Durations.Select(p => $"{p.Key} {p.Value:0.00} s"))}");

                var (byHand, restore, serving) = await ByHandAsync(first, cancellationToken);
                Benchmark.Log($"{label}: by hand {byHand.Wall:0.00} s (restore {restore:0.00} s, start to endpoint status {serving:0.00} s), cpu {byHand.Children:0.00} s");

                Cost alone = null!, beside = null!;
                var drillBeside = 0.0;
                async Task AloneAsync()
                {
                    (var name, alone) = await BackupAsync(cancellationToken);
                    names.Add(name);
                }

                async Task BesideAsync()
                {
                    await Settle.DiskAsync(cancellationToken);
                    var clock = Stopwatch.StartNew();
                    var drillRun = Task.Run(
                        async () =>
                        {
                            await DrillAsync(first, cancellationToken);
                            drillBeside = clock.Elapsed.TotalSeconds;
                        },
                        cancellationToken);
                    (var name, beside) = await BackupAsync(cancellationToken, settle: false);
                    names.Add(name);
                    await drillRun;
                }

                if (round % 2 == 1)
                {
                    await AloneAsync();
                    await BesideAsync();
                }
                else
                {
                    await BesideAsync();
                    await AloneAsync();
                }

                Benchmark.Log($"{label}: backup alone {alone.Wall:0.00} s (cpu bench {alone.Self:0.00}, etcd {alone.Etcd:0.00}); beside a drill {beside.Wall:0.00} s (cpu bench {beside.Self:0.00}, etcd {beside.Etcd:0.00}), that drill {drillBeside:0.00} s");
                return new Round(drill, rto, byHand, restore, serving, alone, beside, drillBeside) { Phases = phases.Durations };
            }
            finally
            {
                foreach (var name in names)
                {
                    await console.Store.DeleteAsync(name, CancellationToken.None);
                }
            }
        }

        private async Task<(SnapshotName Name, Cost Cost)> BackupAsync(CancellationToken cancellationToken, bool settle = true)
        {
            BackupRecord record = null!;
            var cost = await MeasureAsync(async () => record = await console.Runner.RunAsync(Cluster, BackupTrigger.Manual, BackupRunPath.Requester, cancellationToken), cancellationToken, settle);
            return record.Status != BackupStatus.Succeeded || record.FileName is null || !SnapshotName.TryParse(record.FileName, out var name)
                ? throw new InvalidOperationException($"the backup run ended {record.Status}: {record.Error}")
                : (name, cost);
        }

        private async Task<DrillVerdict> DrillAsync(SnapshotName name, CancellationToken cancellationToken)
        {
            var verdict = await drills.RunAsync(new DrillJob(name, console.Store.Target, null, "bench"), cancellationToken);
            return verdict.Outcome == DrillOutcome.Passed ? verdict : throw new InvalidOperationException($"the drill of {name.FileName} ended {verdict.Outcome}: {verdict.Reason}");
        }

        /// <summary>The copy as a raw file (a sealed copy opened by the product first, untimed), restored by bench/drill-by-hand.sh.</summary>
        private async Task<(Cost Cost, double Restore, double Serving)> ByHandAsync(SnapshotName name, CancellationToken cancellationToken)
        {
            var file = console.Store.PathOf(name);
            if (name.Codec != SnapshotCodec.None)
            {
                file = Path.Combine(byHandRoot, name.RawFileName);
                Directory.CreateDirectory(byHandRoot);
                await console.Staging.FetchRawAsync(console.Store, name, file, null, cancellationToken);
            }

            var ports = FreePorts.Pick(2);
            var scratch = Path.Combine(byHandRoot, "scratch");
            var info = new ProcessStartInfo("bash", [Script, file, scratch, ports[0].ToString(CultureInfo.InvariantCulture), ports[1].ToString(CultureInfo.InvariantCulture)])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            info.Environment["ETCD"] = etcd;
            info.Environment["ETCDCTL"] = etcdctl;
            var output = string.Empty;
            try
            {
                var cost = await MeasureAsync(
                    async () =>
                    {
                        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start bash");
                        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
                        output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
                        await process.WaitForExitAsync(cancellationToken);
                        if (process.ExitCode != 0)
                        {
                            throw new InvalidOperationException($"drill-by-hand.sh exited with {process.ExitCode}: {await errors}");
                        }
                    },
                    cancellationToken);
                var fields = output.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('=')).ToDictionary(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture));
                return (cost with { Wall = fields["total"] }, fields["restore"], fields["serving"]);
            }
            finally
            {
                Directory.Delete(byHandRoot, recursive: true);
            }
        }

        /// <summary>Runs <paramref name="work"/> after the disk has settled; CPU from /proc: this process, its reaped children, the source etcd.</summary>
        private async Task<Cost> MeasureAsync(Func<Task> work, CancellationToken cancellationToken, bool settle = true)
        {
            if (settle)
            {
                await Settle.DiskAsync(cancellationToken);
            }

            var self = CpuTime.Of("self");
            var source = CpuTime.Of(etcdPid);
            var clock = Stopwatch.StartNew();
            await work();
            var wall = clock.Elapsed.TotalSeconds;
            var used = CpuTime.Of("self") - self;
            return new Cost(wall, used.Own, used.Children, (CpuTime.Of(etcdPid) - source).Own);
        }
    }
}
