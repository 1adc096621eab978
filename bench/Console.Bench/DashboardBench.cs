extern alias web;

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Infrastructure.Access;
using Console.Infrastructure.Persistence;
using web::Console.Web.Backups;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using WebProgram = web::Program;

namespace Console.Bench;

/// <summary>
/// The Backups dashboard over a real console database of many records (100,000 by default; issue 14 asks for 1,000,000),
/// on SQLite, PostgreSQL 15 or both, side by side. Per provider: the record inserts (the product's own store, a backup's
/// insert-then-update, timed over the newest records on top of the bulk-seeded history), every aggregate query the
/// dashboard runs (the product's store calls), and the page's first render: the console hosted in this process on a
/// loopback port, signed in through its sign-in form, timed from GET /backups to the last byte of the page (the server
/// prerender: routing, auth, layout, the page service's dashboard, every aggregate in the database) plus the grid's
/// first page (MudDataGrid asks for it once the circuit is live: the same service call). Medians, wall and CPU (this
/// process, plus PostgreSQL's server processes).
/// </summary>
internal static partial class DashboardBench
{
    private static readonly string KeyEncryptionKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static readonly string[] Clusters = BenchDatabase.Clusters;

    public static async Task<int> RunAsync(int runs, long records, IReadOnlyList<string> providers)
    {
        var results = new List<DashboardResult>();
        foreach (var provider in providers)
        {
            await using var database = await BenchDatabase.CreateAsync(provider);
            var result = await MeasureAsync(database, records, runs);
            if (result is null)
            {
                return 1;
            }

            results.Add(result);
        }

        System.Console.WriteLine();
        System.Console.WriteLine(Report.DashboardTable(records, results));
        var missed = results.Where(r => r.Render.Wall >= r.Goal).ToList();
        foreach (var r in results.Where(r => r.Goal is not null))
        {
            System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Provider}: first render median {r.Render.Wall:0.0} ms, goal < {r.Goal} ms: {(r.Render.Wall < r.Goal ? "met" : "MISSED")}"));
        }

        return missed.Count == 0 ? 0 : 1;
    }

    private static async Task<DashboardResult?> MeasureAsync(BenchDatabase database, long records, int runs)
    {
        var now = DateTimeOffset.UtcNow;
        var inserted = Math.Min(10_000, records / 10);
        System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{database.Label}: seeding {records - inserted:N0} records in bulk, then {inserted:N0} through the product's store"));
        var seed = await TimedAsync(database, () => database.SeedRecordsAsync(records - inserted, records, now));
        var store = new BackupRecordStore(database.Database);
        var insert = await TimedAsync(database, async () =>
        {
            for (var id = records - inserted + 1; id <= records; id++)
            {
                var assigned = await store.InsertFinishedAsync(BenchDatabase.Record(id, records, now), CancellationToken.None);
                if (assigned != id)
                {
                    throw new InvalidOperationException($"the store assigned id {assigned} where {id} was expected");
                }
            }
        });
        var copies = await TimedAsync(database, () => database.SeedCopiesAsync(records, now));
        System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  bulk records {seed.Wall / 1000:0.0} s, store inserts {insert.Wall / 1000:0.0} s, copies (+ analyze) {copies.Wall / 1000:0.0} s"));

        var queries = new Dictionary<string, Timing>
        {
            ["cluster stats (last good, 7/30-day rates)"] = await MedianAsync(database, runs, () => store.ClusterStatsAsync(Clusters, now, CancellationToken.None)),
            ["stored bytes per target (each cluster)"] = await MedianAsync(database, runs, async () =>
            {
                foreach (var cluster in Clusters)
                {
                    await store.StoredBytesAsync(cluster, ["local"], CancellationToken.None);
                }
            }),
            ["timeline, 30 days by day"] = await MedianAsync(database, runs, () => store.TimelineAsync(null, now.AddDays(-30), TimelineBucket.Day, CancellationToken.None)),
            ["timeline, 1 day by hour (one cluster)"] = await MedianAsync(database, runs, () => store.TimelineAsync("prod", now.AddDays(-1), TimelineBucket.Hour, CancellationToken.None)),
            ["grid's first page + total (all records)"] = await MedianAsync(database, runs, () => store.QueryAsync(new BackupQuery(Take: 25), CancellationToken.None)),
            ["grid's first page + total (30 days)"] = await MedianAsync(database, runs, () => store.QueryAsync(new BackupQuery(Take: 25, From: now.AddDays(-30)), CancellationToken.None)),
        };

        var render = await FirstRenderAsync(database, records, runs);
        return render is null ? null : new DashboardResult(database.Label, inserted, seed, insert, copies, queries, render.Value, Goal(database.Provider, records));
    }

    private static async Task<Timing?> FirstRenderAsync(BenchDatabase database, long records, int runs)
    {
        // The console's content root (wwwroot, static assets), as the tests find it; the bench runs from artifacts/.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_CONSOLE_WEB", Path.Combine(RepositoryRoot(), "src", "Console.Web"));
        await using var factory = new WebApplicationFactory<WebProgram>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Console:DataDir", database.DataDir);
            b.UseSetting("Logging:LogLevel:Default", "Warning");
            b.UseSetting("Console:Database:Provider", database.Settings.Provider);
            if (database.Settings.ConnectionString is { } connectionString)
            {
                // One database for everything, as replicas run: the console's state and Hangfire's (its own schema).
                b.UseSetting("Console:Database:ConnectionString", connectionString);

                // Required on PostgreSQL (it encrypts the shared sign-in key ring); one per bench process, as replicas share one.
                b.UseSetting("Console:DataProtection:KeyEncryptionKey", KeyEncryptionKey);
                b.UseSetting("Console:Scheduler:Store", "postgres");
                b.UseSetting("Console:Scheduler:ConnectionString", connectionString);
            }

            for (var i = 0; i < Clusters.Length; i++)
            {
                b.UseSetting($"Console:Clusters:{i}:Name", Clusters[i]);
                b.UseSetting($"Console:Clusters:{i}:Endpoints:0", "http://127.0.0.1:9");
                b.UseSetting($"Console:Clusters:{i}:Backup:Enabled", "true");
                b.UseSetting($"Console:Clusters:{i}:Backup:Interval", "1h");
                b.UseSetting($"Console:Clusters:{i}:Backup:Paused", "true");
                b.UseSetting($"Console:Clusters:{i}:Backup:Targets:0", "local");
            }
        });
        factory.UseKestrel(Infrastructure.Sandbox.FreePorts.Pick(1)[0]);
        factory.StartServer();
        using var http = await SignedInAsync(factory);
        var service = factory.Services.GetRequiredService<BackupsPageService>();

        var load = await MedianAsync(database, 8, () => service.LoadAsync(DashboardPeriod.Month, null, CancellationToken.None));
        System.Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  the page service's dashboard alone (every aggregate): median {load.Wall:0.0} ms"));
        var wall = new List<double>();
        var cpu = new List<double>();
        var get = new List<double>();
        var grid = new List<double>();
        for (var run = -3; run < runs; run++)
        {
            var cpuBefore = CpuSeconds(database);
            var clock = Stopwatch.StartNew();
            var html = await http.GetStringAsync("/backups");
            var page = clock.Elapsed.TotalMilliseconds;
            var first = await service.RecordsAsync(new BackupQuery(Take: 25), null, CancellationToken.None);
            var total = clock.Elapsed.TotalMilliseconds;
            var cpuUsed = (CpuSeconds(database) - cpuBefore) * 1000;
            if (!html.Contains("data-state=\"ready\"", StringComparison.Ordinal) || first.Total != records)
            {
                System.Console.Error.WriteLine("the page did not render the dashboard over every record");
                return null;
            }

            if (run >= 0)
            {
                wall.Add(total);
                cpu.Add(cpuUsed);
                get.Add(page);
                grid.Add(total - page);
            }
        }

        System.Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  Backups page first render, {records:N0} records, {runs} runs (after 3 warm-up): median {Report.Median(wall):0.0} ms wall, {Report.Median(cpu):0.0} ms CPU "
            + $"(GET /backups prerendered {Report.Median(get):0.0} ms + grid's first page {Report.Median(grid):0.0} ms); slowest {wall.Max():0.0} ms"));
        return new Timing(Report.Median(wall), Report.Median(cpu));
    }

    /// <summary>
    /// The first render's goal in ms: on PostgreSQL under 300 ms at any count up to 1,000,000 (issue 14); on SQLite under
    /// 200 ms at the 100,000 records it was set for (decision record 0018), none beyond.
    /// </summary>
    private static int? Goal(string provider, long records) => provider == "postgres" ? 300 : records <= 100_000 ? 200 : null;

    private static double CpuSeconds(BenchDatabase database) => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds + database.ServerCpuSeconds();

    private static async Task<Timing> TimedAsync(BenchDatabase database, Func<Task> work)
    {
        var cpu = CpuSeconds(database);
        var clock = Stopwatch.StartNew();
        await work();
        return new Timing(clock.Elapsed.TotalMilliseconds, (CpuSeconds(database) - cpu) * 1000);
    }

    /// <summary>Median wall and CPU milliseconds of <paramref name="runs"/> calls, after one warm-up.</summary>
    private static async Task<Timing> MedianAsync(BenchDatabase database, int runs, Func<Task> work)
    {
        await work();
        var timings = new List<Timing>();
        for (var i = 0; i < runs; i++)
        {
            timings.Add(await TimedAsync(database, work));
        }

        return new Timing(Report.Median([.. timings.Select(t => t.Wall)]), Report.Median([.. timings.Select(t => t.Cpu)]));
    }

    private static async Task<HttpClient> SignedInAsync(WebApplicationFactory<WebProgram> factory)
    {
        const string Name = "bench-viewer";
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var hash = new PasswordHasher<LocalUser>().HashPassword(null!, password);
        await factory.Services.GetRequiredService<UserStore>().InsertAsync(Name, Role.Viewer, hash, mustChangePassword: false, "bench", DateTimeOffset.UtcNow, CancellationToken.None);
        var address = factory.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(address) };
        var form = await http.GetStringAsync("/account/login");
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(AntiforgeryToken().Match(form).Groups[1].Value),
            ["_handler"] = "login",
            ["Input.Name"] = Name,
            ["Input.Password"] = password,
        });
        var answer = await http.PostAsync("/account/login", content);
        return answer.StatusCode == HttpStatusCode.Redirect ? http : throw new InvalidOperationException($"signing in answered {(int)answer.StatusCode}");
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Console.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("run the bench from inside the repository (bench/run.sh)");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}

/// <summary>Wall and CPU milliseconds (CPU: this process and the database server's).</summary>
internal readonly record struct Timing(double Wall, double Cpu);

internal sealed record DashboardResult(string Provider, long StoreInserts, Timing BulkRecords, Timing Inserts, Timing BulkCopies, IReadOnlyDictionary<string, Timing> Queries, Timing Render, int? Goal);
