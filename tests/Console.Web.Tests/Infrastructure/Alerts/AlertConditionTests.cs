using System.Text.Json;
using Console.Domain.Backups;
using Console.Domain.Restore;
using Console.Infrastructure.Alerts;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Alerts;

/// <summary>The console as it runs (real etcd, records, status table, restore sessions) and a webhook receiver started by the test.</summary>
public sealed class AlertConditionTests
{
    private const string Secret = "hook-s3cret-7f3a9c-never-shown";

    private static IReadOnlyList<JsonElement> About(AlertReceiver receiver, string condition) =>
        [.. receiver.Json.Where(j => j.GetProperty("condition").GetString() == condition)];

    [Fact]
    public async Task Failed_backups_in_a_row_fire_one_alert_and_a_success_after_etcd_is_back_resolves_it_once()
    {
        using var receiver = new AlertReceiver();
        var log = new LogSink();
        await using var etcd = await TestEtcdCluster.StartAsync();
        var settings = TestTokens.Settings().Concat(TestTokens.Cluster(etcd)).ToDictionary();
        settings["Console:Alerts:Channels:0:Name"] = "ops";
        settings["Console:Alerts:Channels:0:Kind"] = "webhook";
        settings["Console:Alerts:Channels:0:Url"] = receiver.Url(Secret);
        settings["Console:Alerts:ConsecutiveFailures"] = "2";
        settings["Console:Alerts:EvaluateEvery"] = "1h"; // the test ticks: only the tick at start runs by itself
        settings["Console:Alerts:ConsoleUrl"] = "https://console.example.com";
        await using var app = ConsoleApp.Start(settings, logs: log);
        var runner = app.Services.GetRequiredService<BackupRunner>();
        var alerts = app.Services.GetRequiredService<AlertService>();

        await etcd.StopAllAsync();
        Assert.Equal(BackupStatus.Failed, (await runner.RunAsync("test", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None)).Status);
        await alerts.TickAsync(CancellationToken.None);
        Assert.Empty(About(receiver, "consecutive-failures")); // one failure is not yet "in a row"

        Assert.Equal(BackupStatus.Failed, (await runner.RunAsync("test", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None)).Status);
        await alerts.TickAsync(CancellationToken.None);
        await alerts.TickAsync(CancellationToken.None);

        var fired = Assert.Single(About(receiver, "consecutive-failures"));
        Assert.Equal(("fired", "test", "test: 2 backups failed in a row"), (fired.GetProperty("kind").GetString(), fired.GetProperty("cluster").GetString(), fired.GetProperty("summary").GetString()));
        Assert.Equal("https://console.example.com", fired.GetProperty("url").GetString());
        Assert.Equal(JsonValueKind.Null, fired.GetProperty("resolvedAt").ValueKind);

        await etcd.StartAllAgainAsync();
        Assert.Equal(BackupStatus.Succeeded, (await runner.RunAsync("test", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None)).Status);
        await alerts.TickAsync(CancellationToken.None);
        await alerts.TickAsync(CancellationToken.None);

        var both = About(receiver, "consecutive-failures");
        Assert.Equal(["fired", "resolved"], both.Select(j => j.GetProperty("kind").GetString()));
        Assert.Equal(fired.GetProperty("startedAt").GetDateTimeOffset(), both[1].GetProperty("startedAt").GetDateTimeOffset());
        Assert.True(both[1].GetProperty("resolvedAt").GetDateTimeOffset() >= both[1].GetProperty("startedAt").GetDateTimeOffset());
        Assert.All(receiver.Received, r => Assert.StartsWith($"/hooks/{Secret}", r.Path, StringComparison.Ordinal));
        await AlertDeliveryTests.AssertNowhereAsync(app.Services.GetRequiredService<ConsoleDatabase>(), log, Secret);
    }

    [Fact]
    public async Task A_restore_alerts_when_it_starts_touching_members_and_again_when_it_finishes()
    {
        using var receiver = new AlertReceiver();
        await using var etcd = await TestEtcdCluster.StartAsync();
        var settings = TestTokens.Settings().Concat(TestTokens.Cluster(etcd)).ToDictionary();
        settings["Console:Alerts:Channels:0:Name"] = "chat";
        settings["Console:Alerts:Channels:0:Kind"] = "slack";
        settings["Console:Alerts:Channels:0:Url"] = receiver.Url(Secret);
        settings["Console:Alerts:EvaluateEvery"] = "1h";
        await using var app = ConsoleApp.Start(settings);
        var alerts = app.Services.GetRequiredService<AlertService>();
        var sessions = app.Services.GetRequiredService<RestoreSessionStore>();

        // Choosing and verifying a copy is not yet a restore: nothing is sent until the plan is accepted.
        var session = (await sessions.TryCreateAsync(new RestoreSession { Cluster = "test", StartedBy = "alice", Step = RestoreStep.Plan }, DateTimeOffset.UtcNow, CancellationToken.None))!;
        await alerts.TickAsync(CancellationToken.None);
        Assert.Empty(receiver.Received);

        await sessions.SaveAsync(session with { Step = RestoreStep.StopMembers }, DateTimeOffset.UtcNow, CancellationToken.None);
        await alerts.TickAsync(CancellationToken.None);
        await sessions.SaveAsync(session with { Step = RestoreStep.Done }, DateTimeOffset.UtcNow, CancellationToken.None);
        await alerts.TickAsync(CancellationToken.None);

        var texts = receiver.Json.Select(j => j.GetProperty("text").GetString()!).ToList();
        Assert.Equal(2, texts.Count);
        Assert.StartsWith("*[FIRED] test: a restore is in progress*", texts[0], StringComparison.Ordinal);
        Assert.Contains("started by alice; at step StopMembers", texts[0], StringComparison.Ordinal);
        Assert.StartsWith("*[RESOLVED] test: the restore finished*", texts[1], StringComparison.Ordinal);
    }
}
