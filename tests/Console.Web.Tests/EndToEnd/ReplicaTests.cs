using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.EndToEnd;

/// <summary>
/// Several console processes on one PostgreSQL database and one etcd cluster, none of them special (decision record
/// 0022): one backup per cluster across them, each scheduled occurrence once, a killed replica's run settled by a survivor.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ReplicaTests(PostgresServer postgres)
{
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);

    /// <summary>One replica: a process, its own data directory and port, and an API client with the operator token.</summary>
    private sealed class Replica(string name, ConsoleProcess process, TestDirectory data, HttpClient api) : IDisposable
    {
        public string Name => name;
        public ConsoleProcess Process => process;
        public TestDirectory Data => data;
        public HttpClient Api => api;

        public void Dispose()
        {
            process.Dispose();
            api.Dispose();
            data.Dispose();
        }
    }

    private static async Task<List<Replica>> StartAsync(int count, TestEtcdCluster etcd, string connectionString, Action<Dictionary<string, string>>? configure = null)
    {
        var ports = FreePorts.Pick(count);
        var replicas = new List<Replica>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var data = new TestDirectory($"replica-{i}");
                var environment = TestTokens.Settings("__").Concat(TestTokens.Cluster(etcd, separator: "__")).ToDictionary(kv => kv.Key, kv => kv.Value!);
                environment["Console__DataDir"] = data.Path;
                environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{ports[i]}";
                environment["Console__Database__Provider"] = "postgres";
                environment["Console__Database__ConnectionString"] = connectionString;
                environment["Console__Replica__Name"] = $"replica-{i}";
                environment["Console__Replica__HeartbeatInterval"] = Heartbeat.ToString();
                environment["Console__Replica__DeadAfter"] = DeadAfter.ToString();
                configure?.Invoke(environment);
                var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[i]}") };
                api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);
                replicas.Add(new Replica($"replica-{i}", ConsoleProcess.Start(environment), data, api));
            }

            foreach (var replica in replicas)
            {
                await replica.Process.WaitForOutputAsync("Application started", Start);
            }

            return replicas;
        }
        catch
        {
            replicas.ForEach(r => r.Dispose());
            throw;
        }
    }

    private static async Task<List<JsonElement>> RecordsAsync(HttpClient api) =>
        [.. (await api.GetFromJsonAsync<JsonElement>("/api/backups?cluster=test&limit=1000")).GetProperty("items").EnumerateArray()];

    [Fact]
    public async Task Back_up_now_on_three_replicas_at_once_runs_once_and_the_others_answer_409_with_its_id()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        // etcd calls wait (rather than fail after the default 5 s) while etcd is held below.
        var replicas = await StartAsync(3, etcd, await postgres.CreateDatabaseAsync(), e => e["Console__Etcd__CallTimeout"] = "00:02:00");
        try
        {
            // etcd answers nothing until resumed: the winning run holds the cluster while every request arrives.
            etcd.Members[0].Pause();
            HttpResponseMessage[] responses;
            try
            {
                responses = await Task.WhenAll(replicas.SelectMany(r => new[] { r, r }).Select(r => r.Api.PostAsync("/api/clusters/test/backups", null)));
            }
            finally
            {
                etcd.Members[0].Resume();
            }

            var answers = await Task.WhenAll(responses.Select(async r => (r.StatusCode, Body: await r.Content.ReadFromJsonAsync<JsonElement>())));
            var said = string.Join("\n", answers.Select(a => $"{(int)a.StatusCode} {a.Body}"));
            Assert.True(answers.Count(a => a.StatusCode == HttpStatusCode.Accepted) == 1, said);
            var accepted = answers.Single(a => a.StatusCode == HttpStatusCode.Accepted);
            var id = accepted.Body.GetProperty("id").GetInt64();
            var conflicts = answers.Where(a => a.StatusCode != HttpStatusCode.Accepted).ToList();
            Assert.Equal(5, conflicts.Count);
            Assert.All(conflicts, c => Assert.Equal(HttpStatusCode.Conflict, c.StatusCode));
            Assert.All(conflicts, c => Assert.Equal(id, c.Body.GetProperty("runningId").GetInt64()));
            var runner = Assert.Single(conflicts.Select(c => c.Body.GetProperty("replica").GetString()).Distinct());
            Assert.Contains(runner, replicas.Select(r => r.Name));

            // Every replica sees the one record, run by the replica that answered 202.
            var record = await Eventually.ValueAsync(() => replicas[2].Api.GetFromJsonAsync<JsonElement>($"/api/backups/{id}"), r => r.GetProperty("status").GetString() != "Running", TimeSpan.FromSeconds(90));
            Assert.Equal(runner, record.GetProperty("replica").GetString());
            Assert.Equal(JsonValueKind.Null, record.GetProperty("occurrence").ValueKind);
            Assert.Equal([id], (await RecordsAsync(replicas[0].Api)).Select(r => r.GetProperty("id").GetInt64()));
        }
        finally
        {
            replicas.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public async Task Two_replicas_on_one_database_run_each_scheduled_occurrence_once_and_say_which_ran_it()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();

        // No Console:Scheduler:Store: the schedule lives in the console's PostgreSQL database with everything else.
        var replicas = await StartAsync(2, etcd, await postgres.CreateDatabaseAsync(), e =>
        {
            e["Console__Clusters__0__Backup__Enabled"] = "true";
            e["Console__Clusters__0__Backup__Cron"] = "* * * * *";
            e["Console__Clusters__0__Backup__Targets__0"] = "local";
        });
        try
        {
            // Two minute slots after the first backup, finished.
            var records = await Eventually.ValueAsync(
                () => RecordsAsync(replicas[1].Api),
                all => all.Count(r => r.GetProperty("status").GetString() != "Running" && r.GetProperty("requestedBy").GetString() == "scheduler") >= 2,
                TimeSpan.FromSeconds(200));

            var scheduled = records.Where(r => r.GetProperty("trigger").GetString() == "Scheduled").ToList();
            Assert.All(scheduled, r => Assert.Equal(JsonValueKind.String, r.GetProperty("occurrence").ValueKind));
            var perOccurrence = scheduled.GroupBy(r => r.GetProperty("occurrence").GetDateTimeOffset()).ToList();
            Assert.True(perOccurrence.Count >= 2, $"{perOccurrence.Count} occurrence(s)");
            Assert.All(perOccurrence, o => Assert.True(o.Count() == 1, $"the occurrence at {o.Key:O} ran {o.Count()} times"));
            Assert.All(scheduled, r => Assert.Contains(r.GetProperty("replica").GetString(), replicas.Select(x => x.Name)));
            Assert.DoesNotContain("Host=127.0.0.1;Port=", string.Concat(replicas.Select(r => r.Process.Output + r.Process.Error)), StringComparison.Ordinal);
        }
        finally
        {
            replicas.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public async Task A_replica_killed_mid_backup_is_settled_by_a_survivor_within_DeadAfter_and_the_next_backup_runs_there()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using (var client = new Console.Infrastructure.Etcd.EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(10)))
        {
            var value = new string('x', 1024 * 1024);
            await Parallel.ForAsync(0, 32, async (i, ct) => await client.PutAsync(etcd.Endpoints[0], $"/fill/{i}", value, ct));
        }

        var replicas = await StartAsync(2, etcd, await postgres.CreateDatabaseAsync());
        try
        {
            var (victim, survivor) = (replicas[0], replicas[1]);
            var snapshots = victim.Data.Combine("snapshots");
            var started = await victim.Api.PostAsync("/api/clusters/test/backups", null);
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

            // Certainly mid-snapshot: the partial file has bytes, and etcd is held there while the replica is killed.
            await Eventually.ValueAsync(
                () => Task.FromResult(Directory.Exists(snapshots) ? Directory.GetFiles(snapshots, "*.part").Select(f => new FileInfo(f).Length).FirstOrDefault() : 0),
                length => length > 0,
                TimeSpan.FromSeconds(60));
            etcd.Members[0].Pause();
            victim.Process.Kill();
            var killedAt = DateTimeOffset.UtcNow;
            etcd.Members[0].Resume();

            var record = await Eventually.ValueAsync(() => survivor.Api.GetFromJsonAsync<JsonElement>($"/api/backups/{id}"), r => r.GetProperty("status").GetString() != "Running", DeadAfter * 2 + TimeSpan.FromSeconds(30));
            var settledAfter = DateTimeOffset.UtcNow - killedAt;
            Assert.Equal("Interrupted", record.GetProperty("status").GetString());
            Assert.Contains($"replica '{victim.Name}' stopped", record.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Contains("last seen", record.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.True(settledAfter < DeadAfter + Heartbeat + TimeSpan.FromSeconds(10), $"settled {settledAfter} after the kill");

            // Nothing at a final name from the killed run; its partial file waits for its own replica (nobody else removes it).
            Assert.Empty(Directory.GetFiles(snapshots, "*.db"));
            Assert.NotEmpty(Directory.GetFiles(snapshots, "*.part"));

            // The cluster's lock went with the killed replica's connection: the survivor backs it up.
            var next = await survivor.Api.PostAsync("/api/clusters/test/backups", null);
            Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
            var nextId = (await next.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            var done = await Eventually.ValueAsync(() => survivor.Api.GetFromJsonAsync<JsonElement>($"/api/backups/{nextId}"), r => r.GetProperty("status").GetString() != "Running", TimeSpan.FromSeconds(90));
            Assert.Equal("Succeeded", done.GetProperty("status").GetString());
            Assert.Equal(survivor.Name, done.GetProperty("replica").GetString());
        }
        finally
        {
            replicas.ForEach(r => r.Dispose());
        }
    }
}
