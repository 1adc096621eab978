using Bunit;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Drills;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Console.Web.Components.Pages.Snapshots;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Components;

/// <summary>A stand-in drill service: records each request, answers with a set message, and runs "a drill" when told to.</summary>
internal sealed class FakeDrills : IRestoreDrills
{
    public List<(string File, string Target, string By)> Requests { get; } = [];

    public DrillRequest Answer { get; set; } = new(true, "queued: first in line");

    public DrillProgress? Current { get; private set; }

    public event Action? Changed;

    public Task<DrillRequest> RequestAsync(SnapshotName name, string target, Actor by, CancellationToken cancellationToken)
    {
        Requests.Add((name.FileName, target, by.Label));
        return Task.FromResult(Answer);
    }

    public void Set(DrillProgress? progress)
    {
        Current = progress;
        Changed?.Invoke();
    }
}

/// <summary>
/// Each copy's drill verdict on the Snapshots page, from the real drill ledger: Passed with its RTO, revision and keys,
/// Failed with the reason, Running (live, from the drill service) and not drilled; and the Drill button for operators.
/// </summary>
public sealed class SnapshotsPageDrillTests() : ConsolePageContext(HomePageTests.Cluster, services: s => s.AddSingleton<IRestoreDrills, FakeDrills>())
{
    private FakeDrills Drills => (FakeDrills)Services.GetRequiredService<IRestoreDrills>();

    internal static async Task<string> WriteAsync(IServiceProvider services, string utc)
    {
        var name = SnapshotName.For(ClusterName.Parse("prod"), DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture));
        var writer = await services.GetRequiredService<LocalSnapshotStore>().BeginWriteAsync(name, CancellationToken.None);
        await using (writer)
        {
            await writer.WriteAsync(new byte[64], CancellationToken.None);
            await writer.CompleteAsync(new SnapshotManifest { Cluster = "prod", FileName = name.FileName, SizeBytes = 64, Sha256 = "00", Trigger = "Scheduled" }, CancellationToken.None);
        }

        return name.FileName;
    }

    /// <summary>Records a finished drill of the local copy of <paramref name="file"/> in the real ledger.</summary>
    internal static async Task DrillAsync(IServiceProvider services, string file, DrillOutcome outcome, string? reason = null)
    {
        var ledger = services.GetRequiredService<DrillLedger>();
        var drill = new DrillVerdict { Cluster = "prod", FileName = file, Target = "local", StartedAt = DateTimeOffset.UtcNow.AddMinutes(-3) };
        var id = await ledger.StartAsync(drill, CancellationToken.None);
        if (outcome != DrillOutcome.Running)
        {
            await ledger.FinishAsync(drill with { Id = id, Outcome = outcome, Reason = reason, Revision = 1234, KeyCount = 56, Rto = TimeSpan.FromSeconds(4.2), FinishedAt = DateTimeOffset.UtcNow.AddMinutes(-2) }, CancellationToken.None);
        }
    }

    private static AngleSharp.Dom.IElement Verdict(IRenderedComponent<Snapshots> page, string file) =>
        page.Find($"[data-testid=snapshot-row][data-file='{file}'] [data-testid=snapshot-copy][data-target=local] [data-testid=drill-verdict]");

    [Fact]
    public async Task Each_copy_shows_its_verdict_and_a_drill_runs_live_from_the_button_to_its_verdict()
    {
        var passed = await WriteAsync(Services, "2026-11-30T14:00:00Z");
        var failed = await WriteAsync(Services, "2026-11-30T13:00:00Z");
        var running = await WriteAsync(Services, "2026-11-30T12:00:00Z");
        var never = await WriteAsync(Services, "2026-11-30T11:00:00Z");
        await DrillAsync(Services, passed, DrillOutcome.Passed, "revision, keys and canary as recorded");
        await DrillAsync(Services, failed, DrillOutcome.Failed, "etcd did not serve within 60 s: member exited: snapshot file corrupted");
        await DrillAsync(Services, running, DrillOutcome.Running);

        var page = RenderPage<Snapshots>();
        await page.WaitForAssertionAsync(() => Assert.Equal(4, page.FindAll("[data-testid=snapshot-row]").Count), TimeSpan.FromSeconds(60));

        Assert.Equal(["Passed", "Failed", "Running", "NotDrilled"], new[] { passed, failed, running, never }.Select(f => Verdict(page, f).GetAttribute("data-state")));
        Assert.Contains("RTO 4.2 s, revision 1,234, 56 keys", Verdict(page, passed).TextContent, StringComparison.Ordinal);
        Assert.Contains("snapshot file corrupted", Verdict(page, failed).TextContent, StringComparison.Ordinal);
        Assert.Contains("not drilled", Verdict(page, never).TextContent, StringComparison.Ordinal);

        // The button asks the drill service for that copy, as the signed-in operator, and shows its answer.
        page.Find($"[data-testid=snapshot-row][data-file='{never}'] [data-testid=snapshot-copy][data-target=local] button[data-testid=drill]").Click();
        await page.WaitForAssertionAsync(() => Assert.Contains(Snackbars(), s => s.Contains("Drill of local copy", StringComparison.Ordinal)));
        Assert.Equal([(never, "local", "test-admin")], Drills.Requests);

        // The drill starts and moves on: the copy shows its phase live; when it ends, its verdict is read again.
        Drills.Set(new DrillProgress("prod", never, "local", "starting etcd", DateTimeOffset.UtcNow));
        await page.WaitForAssertionAsync(() => Assert.Equal("Running", Verdict(page, never).GetAttribute("data-state")));
        Assert.Contains("starting etcd", Verdict(page, never).TextContent, StringComparison.Ordinal);
        await DrillAsync(Services, never, DrillOutcome.Passed, "all checks passed");
        Drills.Set(null);
        await page.WaitForAssertionAsync(() => Assert.Equal("Passed", Verdict(page, never).GetAttribute("data-state")), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_refused_drill_says_why()
    {
        var file = await WriteAsync(Services, "2026-11-30T14:00:00Z");
        Drills.Answer = new DrillRequest(false, "drills are not available in this build");

        var page = RenderPage<Snapshots>();
        await page.WaitForAssertionAsync(() => Assert.Single(page.FindAll("[data-testid=snapshot-row]")), TimeSpan.FromSeconds(60));
        page.Find("button[data-testid=drill]").Click();

        await page.WaitForAssertionAsync(() => Assert.Contains(Snackbars(), s => s.Contains($"No drill of local copy of {file}", StringComparison.Ordinal)));
    }
}

public sealed class SnapshotsPageDrillForViewersTests() : ConsolePageContext(HomePageTests.Cluster, Role.Viewer)
{
    [Fact]
    public async Task A_viewer_sees_the_verdicts_but_no_drill_button()
    {
        var file = await SnapshotsPageDrillTests.WriteAsync(Services, "2026-11-30T14:00:00Z");
        await SnapshotsPageDrillTests.DrillAsync(Services, file, DrillOutcome.Failed, "canary missing");

        var page = RenderPage<Snapshots>();
        await page.WaitForAssertionAsync(() => Assert.Single(page.FindAll("[data-testid=snapshot-row]")), TimeSpan.FromSeconds(60));

        Assert.Equal("Failed", page.Find("[data-testid=drill-verdict]").GetAttribute("data-state"));
        Assert.Empty(page.FindAll("button[data-testid=drill]"));
    }
}
