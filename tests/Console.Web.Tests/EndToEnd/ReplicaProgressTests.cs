using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Domain.Access;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Microsoft.Playwright.Assertions;

namespace Console.Web.Tests.EndToEnd;

/// <summary>Two console replicas on one PostgreSQL database and one etcd: a run on one is watched live from the other.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ReplicaProgressTests(Browser browser)
{
    private static ProgressRelay? RelayOf(ConsoleApp app) => app.Services.GetServices<IHostedService>().OfType<ProgressRelay>().SingleOrDefault();

    [Fact]
    public async Task Back_up_now_on_one_replica_is_watched_live_to_its_stored_outcome_in_a_browser_on_the_other()
    {
        // etcd advertises the slow proxy, so the console streams the snapshot through it (about 2 MB/s): long enough to watch.
        var proxyPort = FreePorts.Pick(1)[0];
        await using var etcd = await TestEtcdCluster.StartAsync(extraArguments: ["--advertise-client-urls", $"http://127.0.0.1:{proxyPort}"]);
        await using var proxy = new SlowProxy(proxyPort, etcd.Endpoints[0], 2_000_000);
        using (var fill = new BackupHarness(etcd.Spec()))
        {
            await fill.FillAsync(12);
        }

        await using var postgres = await TestPostgres.StartAsync();
        var settings = new Dictionary<string, string?>(TestTokens.Settings())
        {
            ["Console:Database:Provider"] = "postgres",
            ["Console:Database:ConnectionString"] = postgres.ConnectionString,
            ["Console:Scheduler:Store"] = "postgres",
            ["Console:Scheduler:ConnectionString"] = postgres.ConnectionString,
            ["Console:Clusters:0:Name"] = "slow",
            ["Console:Clusters:0:Endpoints:0"] = proxy.Address.ToString().TrimEnd('/'),
        };
        await using var a = ConsoleApp.Start(settings);
        await using var b = ConsoleApp.Start(settings);
        await RelayOf(b)!.Listening.WaitAsync(TimeSpan.FromSeconds(60));
        await using var session = await browser.OpenAsync(b, "backups", Role.Viewer);
        var page = session.Page;
        var home = await page.Context.NewPageAsync();
        await home.GotoAsync(b.Address.ToString());
        await home.Locator("[data-testid=interactive]").WaitForAsync(new() { Timeout = 30_000 });
        var statusRow = home.Locator("[data-testid=backup-status-row][data-cluster=slow]");
        await Expect(statusRow.GetByTestId("last-success")).ToHaveTextAsync("–");

        using var api = new HttpClient { BaseAddress = a.Address };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);
        using var started = await api.PostAsync("/api/clusters/slow/backups", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var recordId = id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // B's page, never reloaded, shows A's run with its bytes moving: two different readings while it streams.
        var progress = page.Locator("[data-testid=backup-progress][data-cluster=slow]");
        await Expect(progress).ToHaveAttributeAsync("data-record", recordId, new() { Timeout = 60_000 });
        var streaming = new HashSet<string>();
        await Eventually.ValueAsync(
            async () =>
            {
                var (phase, text) = (await progress.GetAttributeAsync("data-phase"), await progress.GetByTestId("backup-progress-text").TextContentAsync());
                Assert.NotEqual("Finished", phase); // the stream ended before bytes were seen moving: the test proves nothing
                if (phase == "Streaming" && text is not null)
                {
                    streaming.Add(text);
                }

                return streaming.Count;
            },
            count => count >= 2,
            TimeSpan.FromSeconds(90));
        await Expect(page.Locator("[data-testid=backup-now-card][data-cluster=slow]")).ToHaveAttributeAsync("data-state", "running");
        await Expect(statusRow).ToHaveAttributeAsync("data-state", "Running");
        await Expect(statusRow.GetByTestId("backup-progress")).ToHaveAttributeAsync("data-record", recordId);
        Assert.Null(b.Services.GetRequiredService<BackupRunner>().RunningFor("slow"));

        // Then the outcome, as stored: the card, the record in the grid, and the status table's row.
        await Expect(progress).ToHaveAttributeAsync("data-state", "succeeded", new() { Timeout = 90_000 });
        await Expect(statusRow).Not.ToHaveAttributeAsync("data-state", "Running");
        await Expect(statusRow.GetByTestId("backup-progress")).ToHaveCountAsync(0);
        await Expect(statusRow.GetByTestId("last-success")).Not.ToHaveTextAsync("–");
        await Expect(progress.GetByTestId("backup-progress-text")).ToContainTextAsync("done: ");
        var row = page.GetByTestId("backup-records").Locator("tbody tr").First;
        await Expect(row.GetByTestId("backup-status")).ToHaveAttributeAsync("data-state", "Succeeded");
        var record = await b.Services.GetRequiredService<Console.Infrastructure.Persistence.BackupRecordStore>().GetAsync(id, CancellationToken.None);
        Assert.Equal(Console.Domain.Backups.BackupStatus.Succeeded, record!.Status);
        Assert.True(File.Exists(record.Location), "A's local store has the snapshot");
        Assert.StartsWith(a.DataDir, record.Location, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_console_on_sqlite_has_no_relay()
    {
        await using var app = ConsoleApp.Start();

        Assert.Null(RelayOf(app));
    }
}
