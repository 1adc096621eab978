using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Infrastructure.Sandbox;
using Console.Infrastructure.Scheduling;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.EndToEnd;

/// <summary>Two console processes sharing one Hangfire store in a real PostgreSQL 15 server.</summary>
public sealed class HangfirePostgresTests
{
    private static Dictionary<string, string> Environment(TestEtcdCluster etcd, TestPostgres postgres, string dataDir, int port)
    {
        var environment = TestTokens.Settings("__").Concat(TestTokens.Cluster(etcd, "fast", "__")).ToDictionary(e => e.Key, e => e.Value!);
        environment["Console__Clusters__0__Backup__Enabled"] = "true";
        environment["Console__Clusters__0__Backup__Cron"] = "* * * * *";
        environment["Console__Clusters__0__Backup__Targets__0"] = "local";
        environment["Console__Scheduler__Store"] = "postgres";
        environment["Console__Scheduler__ConnectionString"] = postgres.ConnectionString;
        environment["Console__DataDir"] = dataDir;
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        return environment;
    }

    /// <summary>The scheduled (not first) backups one console recorded.</summary>
    private static async Task<List<(DateTimeOffset StartedAt, string Status)>> ScheduledAsync(HttpClient api)
    {
        var page = await api.GetFromJsonAsync<JsonElement>("/api/backups?cluster=fast&limit=200");
        return page.GetProperty("items").EnumerateArray()
            .Where(r => r.GetProperty("requestedBy").GetString() == ScheduledBackupJob.RequestedBy)
            .Select(r => (r.GetProperty("startedAt").GetDateTimeOffset(), r.GetProperty("status").GetString()!))
            .ToList();
    }

    [Fact]
    public async Task Two_consoles_on_one_postgres_store_run_each_occurrence_once()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var postgres = await TestPostgres.StartAsync();
        using var dataA = new TestDirectory("pg-a");
        using var dataB = new TestDirectory("pg-b");
        var ports = FreePorts.Pick(2);
        using var a = ConsoleProcess.Start(Environment(etcd, postgres, dataA.Path, ports[0]));
        using var b = ConsoleProcess.Start(Environment(etcd, postgres, dataB.Path, ports[1]));
        await a.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(120));
        await b.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(120));
        using var apiA = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}") };
        using var apiB = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}") };
        apiA.DefaultRequestHeaders.Authorization = apiB.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Viewer);

        // Three minute slots after both started, each finished by one of the two consoles.
        var all = await Eventually.ValueAsync(
            async () => (await ScheduledAsync(apiA)).Concat(await ScheduledAsync(apiB)).ToList(),
            runs => runs.Where(r => r.Status != "Running").Select(r => Slot(r.StartedAt)).Distinct().Count() >= 3,
            TimeSpan.FromSeconds(240));

        var perSlot = all.GroupBy(r => Slot(r.StartedAt)).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(perSlot, slot => Assert.True(slot.Value == 1, $"the occurrence at {slot.Key:O} ran {slot.Value} times"));
        Assert.All(all.Where(r => r.Status != "Running"), r => Assert.Equal("Succeeded", r.Status));

        // Neither process logged the connection string.
        Assert.DoesNotContain("Host=127.0.0.1;Port=", a.Output + a.Error + b.Output + b.Error, StringComparison.Ordinal);
    }

    private static DateTimeOffset Slot(DateTimeOffset startedAt) =>
        new(startedAt.UtcDateTime.Year, startedAt.UtcDateTime.Month, startedAt.UtcDateTime.Day, startedAt.UtcDateTime.Hour, startedAt.UtcDateTime.Minute, 0, TimeSpan.Zero);
}
