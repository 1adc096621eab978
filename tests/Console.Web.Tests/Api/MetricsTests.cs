using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Metrics;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Api;

/// <summary>/metrics in the Prometheus text format: the values the records say, after a success and after a failure.</summary>
public sealed partial class MetricsTests
{
    [Fact]
    public async Task Metrics_show_what_the_records_say_after_a_success_and_after_a_failure_and_need_a_token()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        await using var app = ConsoleApp.Start(TestTokens.Settings().Concat(TestTokens.Cluster(etcd)).ToDictionary());
        var runner = app.Services.GetRequiredService<BackupRunner>();
        var metrics = app.Services.GetRequiredService<BackupMetrics>();
        using var anonymous = new HttpClient { BaseAddress = app.Address };
        using var viewer = new HttpClient { BaseAddress = app.Address };
        viewer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Viewer);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);

        var success = await runner.RunAsync("test", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        Assert.Equal(BackupStatus.Succeeded, success.Status);
        await metrics.RefreshAsync(CancellationToken.None);
        var text = await ScrapeUntilAsync(viewer, t => Value(t, "etcd_backup_duration_seconds_count", "cluster=\"test\",outcome=\"success\",target=\"local\"") is 1);
        Assert.Equal(success.FinishedAt!.Value.ToUnixTimeMilliseconds() / 1000.0, Value(text, "etcd_backup_last_success_timestamp_seconds", "cluster=\"test\",target=\"local\"")!.Value, 3);
        Assert.Equal(success.SizeBytes, (long?)Value(text, "etcd_backup_size_bytes", "cluster=\"test\""));
        Assert.Equal(0, Value(text, "etcd_backup_consecutive_failures", "cluster=\"test\""));
        Assert.Equal(1, Value(text, "etcd_backup_storage_healthy", "target=\"local\""));
        Assert.Null(Value(text, "etcd_backup_failures_total", "cluster=\"test\",reason=\"etcd\""));
        Assert.Contains("http_server_request_duration_seconds", text, StringComparison.Ordinal); // ASP.NET Core's own

        await etcd.StopAllAsync();
        var failure = await runner.RunAsync("test", BackupTrigger.Manual, TestActors.Of("test"), CancellationToken.None);
        Assert.Equal(BackupStatus.Failed, failure.Status);
        await metrics.RefreshAsync(CancellationToken.None);
        text = await ScrapeUntilAsync(viewer, t => Value(t, "etcd_backup_consecutive_failures", "cluster=\"test\"") is 1);
        Assert.Equal(1, Value(text, "etcd_backup_failures_total", "cluster=\"test\",reason=\"etcd\""));
        Assert.Equal(1, Value(text, "etcd_backup_duration_seconds_count", "cluster=\"test\",outcome=\"failure\",target=\"local\""));
        Assert.Equal(0, Value(text, "etcd_backup_stale", "cluster=\"test\"")); // failing, but the last success is seconds old: not stale
        Assert.Equal(success.FinishedAt!.Value.ToUnixTimeMilliseconds() / 1000.0, Value(text, "etcd_backup_last_success_timestamp_seconds", "cluster=\"test\",target=\"local\"")!.Value, 3);
    }

    /// <summary>The exporter caches a scrape briefly: read until the condition holds.</summary>
    internal static Task<string> ScrapeUntilAsync(HttpClient client, Func<string, bool> condition) =>
        Eventually.ValueAsync(async () =>
        {
            var response = await client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }, condition, TimeSpan.FromSeconds(60));

    /// <summary>The value of one series in the Prometheus text, its labels given in the exporter's (sorted) order.</summary>
    internal static double? Value(string text, string name, string labels)
    {
        foreach (var line in text.Split('\n'))
        {
            var match = Series().Match(line);
            if (match.Success && match.Groups["name"].Value == name && Sorted(match.Groups["labels"].Value).Contains(labels, StringComparison.Ordinal))
            {
                return double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    private static string Sorted(string labels) => string.Join(',', labels.Split(',', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("otel_scope", StringComparison.Ordinal)).Order(StringComparer.Ordinal));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?<labels>[^}]*)\} (?<value>\S+)")]
    private static partial Regex Series();
}
