using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Infrastructure.Backups;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Api;

public sealed class BackupApiTests
{
    private static HttpClient Client(ConsoleApp app, string? token)
    {
        var client = new HttpClient { BaseAddress = app.Address };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    private static async Task<JsonElement> WaitForFinishAsync(HttpClient client, long id)
    {
        return await Eventually.ValueAsync(
            async () => await client.GetFromJsonAsync<JsonElement>($"/api/backups/{id}"),
            r => r.GetProperty("status").GetString() != "Running",
            TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task An_operator_token_starts_a_backup_that_can_be_followed_to_success()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(TestTokens.Settings().Concat(TestTokens.Cluster(etcd)).ToDictionary());
        using var client = Client(app, TestTokens.Operator);

        var response = await client.PostAsync("/api/clusters/test/backups", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var started = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = started.GetProperty("id").GetInt64();
        Assert.Equal($"/api/backups/{id}", response.Headers.Location!.ToString());
        var record = await WaitForFinishAsync(client, id);
        Assert.Equal("Succeeded", record.GetProperty("status").GetString());
        Assert.Equal("Api", record.GetProperty("trigger").GetString());
        Assert.Equal("token:ci", record.GetProperty("requestedBy").GetString());
        Assert.Matches("^[0-9a-f]{64}$", record.GetProperty("sha256").GetString());
        Assert.True(File.Exists(record.GetProperty("location").GetString()));

        var list = await client.GetFromJsonAsync<JsonElement>("/api/backups?cluster=test&limit=1");
        Assert.Equal(id, list.GetProperty("items")[0].GetProperty("id").GetInt64());
        Assert.Equal(1, list.GetProperty("total").GetInt32());

        var clusters = await client.GetFromJsonAsync<JsonElement>("/api/clusters");
        var row = Assert.Single(clusters.EnumerateArray());
        Assert.Equal("test", row.GetProperty("name").GetString());
        Assert.Equal("Ok", row.GetProperty("lastBackupStatus").GetString());
        Assert.Equal("disabled", row.GetProperty("configuration").GetString());
        Assert.False(row.GetProperty("stale").GetBoolean());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("lastDrill").ValueKind);
        Assert.Empty(row.GetProperty("failedVerifications").EnumerateArray());

        // Drill verdicts and failed verifications are additive fields of the same rows.
        var drills = app.Services.GetRequiredService<Console.Infrastructure.Persistence.DrillLedger>();
        var drill = new Console.Domain.Backups.DrillVerdict { Cluster = "test", FileName = record.GetProperty("fileName").GetString()!, Target = "local", StartedAt = DateTimeOffset.UtcNow };
        await drills.FinishAsync(drill with { Id = await drills.StartAsync(drill, CancellationToken.None), Outcome = Console.Domain.Backups.DrillOutcome.Passed, Rto = TimeSpan.FromSeconds(2), FinishedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        var drilled = Assert.Single((await client.GetFromJsonAsync<JsonElement>("/api/clusters")).EnumerateArray());
        Assert.Equal("Passed", drilled.GetProperty("lastDrill").GetProperty("outcome").GetString());
        Assert.Equal(2.0, drilled.GetProperty("lastDrillRtoSeconds").GetDouble());
    }

    [Fact]
    public async Task Callers_without_a_valid_token_or_role_are_refused_and_nothing_runs()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(TestTokens.Settings().Concat(TestTokens.Cluster(etcd)).ToDictionary());
        using var anonymous = Client(app, null);
        using var wrong = Client(app, "not-a-token");
        using var viewer = Client(app, TestTokens.Viewer);

        var noToken = await anonymous.PostAsync("/api/clusters/test/backups", null);
        var badToken = await wrong.PostAsync("/api/clusters/test/backups", null);
        var viewerPost = await viewer.PostAsync("/api/clusters/test/backups", null);
        var anonymousList = await anonymous.GetAsync("/api/backups");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/clusters")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("Bearer", noToken.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, badToken.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerPost.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousList.StatusCode);
        var list = await viewer.GetFromJsonAsync<JsonElement>("/api/backups");
        Assert.Equal(0, list.GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/backups/424242")).StatusCode);
        using var op = Client(app, TestTokens.Operator);
        Assert.Equal(HttpStatusCode.NotFound, (await op.PostAsync("/api/clusters/nope/backups", null)).StatusCode);
    }

    [Fact]
    public async Task A_second_request_while_one_runs_gets_409_naming_the_run_in_flight()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(TestTokens.Settings().Concat(TestTokens.Cluster(etcd)).ToDictionary());
        using var client = Client(app, TestTokens.Operator);
        var etcdClient = new Console.Infrastructure.Etcd.EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(5));
        var value = new string('x', 512 * 1024);
        for (var i = 0; i < 16; i++)
        {
            await etcdClient.PutAsync(etcd.Endpoints[0], $"/fill/{i}", value, CancellationToken.None);
        }

        // Hold the first run mid-stream by pausing etcd as soon as bytes flow.
        using var mid = app.Services.GetRequiredService<BackupProgressFeed>().Subscribe(run =>
        {
            if (run.Phase == BackupPhase.Streaming && run.BytesReceived > 0)
            {
                etcd.Members[0].Pause();
            }
        });
        try
        {
            var first = await client.PostAsync("/api/clusters/test/backups", null);
            var id = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            await Eventually.ValueAsync(() => Task.FromResult(File.ReadAllText($"/proc/{etcd.Members[0].Pid}/stat")), s => s.Contains(") T ", StringComparison.Ordinal), TimeSpan.FromSeconds(10));

            var second = await client.PostAsync("/api/clusters/test/backups", null);

            Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
            var body = await second.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(id, body.GetProperty("runningId").GetInt64());
            Assert.Contains("already running", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            etcd.Members[0].Resume();
            etcdClient.Dispose();
        }
    }
}
