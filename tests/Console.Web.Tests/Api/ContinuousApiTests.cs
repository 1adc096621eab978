using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Continuous;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Api;

/// <summary>/api/clusters carries each continuous cluster's window and RPO, and its alert, for dashboards and alerting.</summary>
public sealed class ContinuousApiTests
{
    [Fact]
    public async Task The_cluster_list_gives_the_window_rpo_and_alert_of_a_continuous_cluster_and_nothing_for_others()
    {
        var history = new FakeDeltaHistory();
        var settings = TestTokens.Settings();
        settings["Console:Clusters:0:Name"] = "prod";
        settings["Console:Clusters:0:Endpoints:0"] = "http://127.0.0.1:1";
        settings["Console:Clusters:0:Backup:Continuous:Enabled"] = "true";
        settings["Console:Clusters:1:Name"] = "staging";
        settings["Console:Clusters:1:Endpoints:0"] = "http://127.0.0.1:1";
        await using var app = ConsoleApp.Start(settings, services: s => s.AddSingleton<IDeltaHistory>(history));
        var now = DateTimeOffset.UtcNow;
        history.Set(new RecoverableWindow(ClusterName.Parse("prod"), true, [new RecoverableSpan(100, 250, now.AddHours(-1), now.AddSeconds(-120), "prod_x.db")], [], now.AddSeconds(-120)));
        using var client = new HttpClient { BaseAddress = app.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Viewer);

        var rows = (await client.GetFromJsonAsync<JsonElement>("/api/clusters")).EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);

        var prod = rows["prod"].GetProperty("continuous");
        Assert.Equal(100, prod.GetProperty("fromRevision").GetInt64());
        Assert.Equal(250, prod.GetProperty("toRevision").GetInt64());
        Assert.InRange(prod.GetProperty("rpoSeconds").GetDouble(), 120, 600);
        Assert.Equal(30, prod.GetProperty("rpoLimitSeconds").GetDouble());
        Assert.True(prod.GetProperty("alert").GetBoolean());
        Assert.True(rows["prod"].GetProperty("stale").GetBoolean());
        Assert.Equal(JsonValueKind.Null, rows["staging"].GetProperty("continuous").ValueKind);
    }
}
