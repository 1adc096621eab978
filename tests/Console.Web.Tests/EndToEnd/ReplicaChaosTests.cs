using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.EndToEnd;

/// <summary>
/// Chaos, bounded in time (issue 14): three replicas on one PostgreSQL database and one shared snapshot directory back up
/// three clusters every minute while, in turn, one of them is killed with SIGKILL and restarted under its name — once a
/// minute in the middle of a scheduled backup (its etcd held so the run is certainly in flight), in between at random.
/// Afterwards no occurrence is lost or doubled, nothing is left Running, and every file at a final name is a whole snapshot.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ReplicaChaosTests(PostgresServer postgres)
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(135);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Chaos = TimeSpan.FromSeconds(135);
    private static readonly string[] Clusters = ["c0", "c1", "c2"];

    /// <summary>One replica's configuration, kept so it can be restarted as the same replica after each kill.</summary>
    private sealed class Replica(string name, Dictionary<string, string> environment, TestDirectory data) : IDisposable
    {
        public string Name => name;

        public ConsoleProcess Process { get; private set; } = ConsoleProcess.Start(environment);

        public void Restart()
        {
            Process.Dispose();
            Process = ConsoleProcess.Start(environment);
        }

        public void Dispose()
        {
            Process.Dispose();
            data.Dispose();
        }
    }

    [Fact]
    public async Task Replicas_killed_and_restarted_in_turn_run_each_occurrence_once_and_leave_only_whole_snapshots()
    {
        var etcds = new List<TestEtcdCluster>();
        var replicas = new List<Replica>();
        using var snapshots = new TestDirectory("chaos-snapshots");
        var kills = new List<string>();
        try
        {
            foreach (var cluster in Clusters)
            {
                etcds.Add(await TestEtcdCluster.StartAsync(name: $"chaos-{cluster}"));
            }

            var connectionString = await postgres.CreateDatabaseAsync();
            var ports = FreePorts.Pick(3);
            for (var i = 0; i < 3; i++)
            {
                var data = new TestDirectory($"chaos-replica-{i}");
                var environment = TestTokens.Settings("__").ToDictionary(kv => kv.Key, kv => kv.Value!);
                environment["Console__DataDir"] = data.Path;
                environment["Console__Storage__Local__Dir"] = snapshots.Path;
                environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ports[i]}";
                environment["Console__Database__Provider"] = "postgres";
                environment["Console__Database__ConnectionString"] = connectionString;
                environment["Console__Replica__Name"] = $"replica-{i}";
                environment["Console__Replica__HeartbeatInterval"] = Heartbeat.ToString();
                environment["Console__Replica__DeadAfter"] = DeadAfter.ToString();
                // A held etcd makes a backup wait (rather than fail after the default 5 s) until it is let go.
                environment["Console__Etcd__CallTimeout"] = "00:02:00";
                for (var c = 0; c < Clusters.Length; c++)
                {
                    environment[$"Console__Clusters__{c}__Name"] = Clusters[c];
                    environment[$"Console__Clusters__{c}__Endpoints__0"] = etcds[c].Endpoints[0].ToString().TrimEnd('/');
                    environment[$"Console__Clusters__{c}__Backup__Enabled"] = "true";
                    environment[$"Console__Clusters__{c}__Backup__Cron"] = "* * * * *";
                    environment[$"Console__Clusters__{c}__Backup__Targets__0"] = "local";
                    environment[$"Console__Clusters__{c}__Backup__Retention__Count"] = "100";
                }

                replicas.Add(new Replica($"replica-{i}", environment, data));
            }

            using var api = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);
            var urls = ports.Select(p => new Uri($"http://127.0.0.1:{p}")).ToList();
            await AllUpAsync(replicas);

            // Each cluster's first backup, before the chaos: once one has succeeded no "first backup" fires again, and every
            // later scheduled record is one minute slot.
            await Eventually.ValueAsync(
                () => RecordsAsync(api, urls),
                all => Clusters.All(c => all.Any(r => r.Cluster == c && r.Status == "Succeeded")),
                TimeSpan.FromSeconds(120));
            var from = DateTimeOffset.UtcNow;

            // The chaos lasts its planned time and at least until two replicas were killed: on a busy machine one restart
            // can take minutes, and the assertions below need the stimulus to have happened (bounded: a stuck loop fails).
            var until = from + Chaos;
            var hardStop = until + TimeSpan.FromMinutes(3); // the whole test stays well inside test.sh's 10-minute hang timeout
            while ((DateTimeOffset.UtcNow < until || kills.Count < 2) && DateTimeOffset.UtcNow < hardStop)
            {
                await AllUpAsync(replicas);
                var now = DateTimeOffset.UtcNow;
                var slot = NextSlot(now);
                Replica victim;
                string why;
                if (slot - now < TimeSpan.FromSeconds(25))
                {
                    if (slot > until && kills.Count >= 2)
                    {
                        break;
                    }

                    // Mid-run: c0's etcd is held from just before the slot, so its scheduled run stays Running until its replica is killed.
                    await Task.Delay(Max(slot - now - TimeSpan.FromSeconds(2), TimeSpan.Zero));
                    etcds[0].Members[0].Pause();
                    try
                    {
                        List<Record> running;
                        try
                        {
                            running = await Eventually.ValueAsync(
                                () => RecordsAsync(api, urls),
                                all => all.Any(r => r.Cluster == "c0" && r.Status == "Running" && r.Occurrence == slot),
                                TimeSpan.FromSeconds(240)); // a job whose replica was just killed waits out the 30 s invisibility timeout, then a restart (slow on a loaded machine)
                        }
                        catch (TimeoutException)
                        {
                            // What happened instead, for whoever reads the failure: the kills so far, every record, and the replicas' last words.
                            var seen = await RecordsAsync(api, urls);
                            throw new TimeoutException(
                                $"no Running record of c0 for {slot:HH:mm:ss} within 240 s\n{string.Join("\n", kills)}\n{string.Join("\n", seen.OrderBy(r => r.Id).Select(r => r.ToString()))}\n"
                                + string.Join("\n", replicas.Select(r => $"--- {r.Name}:\n{string.Join("\n", r.Process.Output.Split('\n').TakeLast(40))}")));
                        }

                        var record = running.First(r => r.Cluster == "c0" && r.Status == "Running" && r.Occurrence == slot);
                        victim = replicas.Single(r => r.Name == record.Replica);
                        why = $"mid-run of c0 {slot:HH:mm}, record {record.Id}";
                        victim.Process.Kill();
                    }
                    finally
                    {
                        etcds[0].Members[0].Resume();
                    }
                }
                else
                {
                    // The stimulus between occurrences: a kill ~15 s after the previous replica is back, whatever the victim is
                    // doing, early enough that the restart (~20 s here) is over before the next slot's mid-run kill.
                    await Task.Delay(Min(TimeSpan.FromSeconds(15), slot - now - TimeSpan.FromSeconds(25)));
                    victim = replicas[Random.Shared.Next(replicas.Count)];
                    why = "at random";
                    victim.Process.Kill();
                }

                kills.Add($"{DateTimeOffset.UtcNow:HH:mm:ss.f} killed {victim.Name} ({why})");
                victim.Restart();
            }

            var end = DateTimeOffset.UtcNow;
            await AllUpAsync(replicas);

            // Every slot due during the chaos has its record and none is Running: the sweeper settles a killed run within
            // DeadAfter, and a slot whose claim died with its replica is taken over by a survivor at once.
            var due = Slots(NextSlot(from), end);
            Assert.True(due.Count >= 2, $"only {due.Count} slot(s) fell in the chaos");
            var settled = await UntilAsync(
                () => RecordsAsync(api, urls),
                all => all.All(r => r.Status != "Running") && Clusters.All(c => due.All(s => all.Any(r => r.Cluster == c && r.Occurrence == s))),
                TimeSpan.FromSeconds(90));

            foreach (var replica in replicas)
            {
                replica.Process.Interrupt();
            }

            foreach (var replica in replicas)
            {
                await replica.Process.WaitForExitAsync(TimeSpan.FromSeconds(60));
            }

            var story = string.Join("\n", kills) + "\n" + string.Join("\n", settled.OrderBy(r => r.Cluster, StringComparer.Ordinal).ThenBy(r => r.Id).Select(r => r.ToString()));
            // The stimulus happened: a restart can take two minutes on a loaded machine, so at least a mid-run kill and one more.
            Assert.True(kills.Count >= 2, story);
            Assert.Contains(settled, r => r.Status == "Interrupted");
            Assert.DoesNotContain(settled, r => r.Status == "Running");
            foreach (var cluster in Clusters)
            {
                foreach (var slot in due)
                {
                    var count = settled.Count(r => r.Cluster == cluster && r.Occurrence == slot);
                    Assert.True(count == 1, $"{cluster}'s occurrence {slot:HH:mm} has {count} record(s):\n{story}");
                }
            }

            // Not only the slots checked above: no occurrence ran twice at all.
            Assert.All(settled.Where(r => r.Occurrence is not null).GroupBy(r => (r.Cluster, r.Occurrence)), g => Assert.True(g.Count() == 1, $"{g.Key} ran {g.Count()} times:\n{story}"));

            // Only whole snapshots at final names, and no partial file left: each killed replica's restart removed its own.
            Assert.Empty(Directory.GetFiles(snapshots.Path, "*.part"));
            var files = Directory.GetFiles(snapshots.Path, "*.db");
            Assert.NotEmpty(files);
            Assert.All(files, f => Assert.Null(FooterProblem(f)));
            var succeeded = settled.Where(r => r.Status == "Succeeded").ToList();
            Assert.NotEmpty(succeeded);
            Assert.All(succeeded, r => Assert.True(File.Exists(r.Location), $"record {r.Id} points at {r.Location}, which does not exist"));
        }
        finally
        {
            replicas.ForEach(r => r.Dispose());
            foreach (var etcd in etcds)
            {
                etcd.Members[0].Resume();
                await etcd.DisposeAsync();
            }
        }
    }

    private sealed record Record(long Id, string Cluster, string Status, string? Replica, DateTimeOffset? Occurrence, string? Location)
    {
        public override string ToString() => $"{Cluster} #{Id} {Status} on {Replica} occurrence {Occurrence:HH:mm:ss.fff}";
    }

    /// <summary>Every record, from whichever replica answers (the one asked may have just been killed).</summary>
    private static async Task<List<Record>> RecordsAsync(HttpClient api, IReadOnlyList<Uri> urls)
    {
        foreach (var url in urls.OrderBy(_ => Random.Shared.Next()))
        {
            try
            {
                var all = new List<Record>();
                foreach (var cluster in Clusters)
                {
                    var page = await api.GetFromJsonAsync<JsonElement>(new Uri(url, $"/api/backups?cluster={cluster}&limit=1000"));
                    all.AddRange(page.GetProperty("items").EnumerateArray().Select(r => new Record(
                        r.GetProperty("id").GetInt64(),
                        cluster,
                        r.GetProperty("status").GetString()!,
                        r.GetProperty("replica").GetString(),
                        r.GetProperty("occurrence").ValueKind == JsonValueKind.String ? r.GetProperty("occurrence").GetDateTimeOffset() : null,
                        r.GetProperty("location").GetString())));
                }

                return all;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Killed, or not started yet: ask another.
            }
        }

        return [];
    }

    /// <summary>Waits until the replicas (restarted ones included) have all started.</summary>
    private static async Task AllUpAsync(List<Replica> replicas)
    {
        foreach (var replica in replicas)
        {
            await replica.Process.WaitForOutputAsync("Application started", Start);
        }
    }

    /// <summary>Like <see cref="Eventually"/>, but returns the last value on timeout: the assertions then say what is missing.</summary>
    private static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var value = await read();
        while (!condition(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            value = await read();
        }

        return value;
    }

    /// <summary>The product's own check of a snapshot's sha256 footer; null when the file is whole.</summary>
    private static string? FooterProblem(string path)
    {
        using var verifier = new SnapshotVerifier();
        verifier.Append(File.ReadAllBytes(path));
        try
        {
            verifier.Complete();
            return null;
        }
        catch (SnapshotIntegrityException ex)
        {
            return $"{Path.GetFileName(path)}: {ex.Message}";
        }
    }

    private static DateTimeOffset NextSlot(DateTimeOffset after)
    {
        var minute = new DateTimeOffset(after.Year, after.Month, after.Day, after.Hour, after.Minute, 0, TimeSpan.Zero);
        return minute.AddMinutes(1);
    }

    private static List<DateTimeOffset> Slots(DateTimeOffset first, DateTimeOffset last)
    {
        var slots = new List<DateTimeOffset>();
        for (var slot = first; slot <= last; slot = slot.AddMinutes(1))
        {
            slots.Add(slot);
        }

        return slots;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
