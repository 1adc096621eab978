using Bunit;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Console.Web.Components.Pages.Restore;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;

namespace Console.Web.Tests.Components;

/// <summary>
/// The restore wizard's list of snapshots: never pre-selects a snapshot whose copies failed their drill or verification,
/// warns about an undrilled one, shows each copy's verdict, and still lets the operator pick a failed one deliberately.
/// </summary>
public sealed class CandidateListTests : BunitContext, IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public CandidateListTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    private static SnapshotName Name(int hoursAgo) => SnapshotName.For(ClusterName.Parse("prod"), Now.AddHours(-hoursAgo));

    private static DrillVerdict Drill(SnapshotName name, string target, DrillOutcome outcome, string? reason = null) =>
        new() { Cluster = "prod", FileName = name.FileName, Target = target, Outcome = outcome, Reason = reason, StartedAt = Now.AddHours(-1), FinishedAt = Now.AddHours(-1) };

    private static SnapshotCopy Copy(SnapshotName name, string target, DrillOutcome? drill = null, bool? verified = null, string? reason = null) => new(
        target, 1024, $"{target}://{name.FileName}", Now, verified is { } ok ? new Verification(name.FileName, target, Now, ok, reason ?? "sha256 matches", SnapshotCatalog.ReverificationBy) : null,
        drill is { } outcome ? Drill(name, target, outcome, reason) : null);

    private static SnapshotEntry Entry(SnapshotName name, params SnapshotCopy[] copies) => new(name, copies, null, false);

    private IRenderedComponent<CandidateList> List(IReadOnlyList<SnapshotEntry> candidates, List<string>? chosen = null) =>
        Render<CandidateList>(p => p.Add(c => c.Candidates, candidates).Add(c => c.Now, Now).Add(c => c.OnChoose, (string f) => chosen?.Add(f)));

    private static string? Checked(IRenderedComponent<CandidateList> list) =>
        list.FindAll("tr[data-testid=candidate]").SingleOrDefault(r => r.QuerySelector("input")!.HasAttribute("checked"))?.GetAttribute("data-file");

    [Fact]
    public void The_newest_snapshot_with_a_sound_copy_is_pre_selected_and_an_undrilled_one_is_warned_about()
    {
        var (failedDrill, failedVerification, undrilled, proven) = (Name(1), Name(2), Name(3), Name(4));
        var list = List([
            Entry(failedDrill, Copy(failedDrill, "local", DrillOutcome.Failed, reason: "etcd did not start: snapshot file corrupted")),
            Entry(failedVerification, Copy(failedVerification, "local", DrillOutcome.Passed, verified: false, reason: "the footer's sha256 does not match its content")),
            Entry(undrilled, Copy(undrilled, "local"), Copy(undrilled, "s3", DrillOutcome.Running)),
            Entry(proven, Copy(proven, "local", DrillOutcome.Passed, verified: true)),
        ]);

        Assert.Equal(["Failed", "Failed", "Undrilled", "Proven"], list.FindAll("tr[data-testid=candidate]").Select(r => r.GetAttribute("data-state")));
        Assert.Equal(undrilled.FileName, Checked(list));
        Assert.Contains("was never restored in a drill", list.Find("[data-testid=chosen-undrilled]").TextContent, StringComparison.Ordinal);
        Assert.Contains("its last restore drill failed: etcd did not start", list.Find($"tr[data-file='{failedDrill.FileName}'] [data-testid=copy-failed]").TextContent, StringComparison.Ordinal);
        Assert.Contains("its last verification failed: the footer's sha256", list.Find($"tr[data-file='{failedVerification.FileName}'] [data-testid=copy-failed]").TextContent, StringComparison.Ordinal);
        Assert.Equal(2, list.FindAll($"tr[data-file='{undrilled.FileName}'] [data-testid=copy-undrilled]").Count);
    }

    [Fact]
    public void A_failed_snapshot_can_still_be_chosen_deliberately_with_a_warning()
    {
        var chosen = new List<string>();
        var (failed, proven) = (Name(1), Name(2));
        var list = List([Entry(failed, Copy(failed, "local", DrillOutcome.Failed, reason: "canary missing")), Entry(proven, Copy(proven, "local", DrillOutcome.Passed))], chosen);
        Assert.Equal(proven.FileName, Checked(list));
        Assert.Empty(list.FindAll("[data-testid=chosen-failed]"));

        list.Find($"tr[data-file='{failed.FileName}'] input").Change(true);
        list.Find("button[data-testid=choose]").Click();

        Assert.Contains("failed its restore drill or its verification (its last restore drill failed: canary missing)", list.Find("[data-testid=chosen-failed]").TextContent, StringComparison.Ordinal);
        Assert.Equal([failed.FileName], chosen);
    }

    [Fact]
    public void When_every_snapshot_failed_nothing_is_pre_selected()
    {
        var only = Name(1);
        var list = List([Entry(only, Copy(only, "local", verified: false, reason: "could not read the copy"))]);

        Assert.Null(Checked(list));
        Assert.True(list.Find("button[data-testid=choose]").HasAttribute("disabled"));
    }

    [Fact]
    public void A_restore_takes_a_sound_copy_local_first_else_the_local_one()
    {
        var name = Name(1);
        Assert.Equal("s3", Entry(name, Copy(name, "local", DrillOutcome.Failed), Copy(name, "s3")).RestoreCopy.Target);
        Assert.Equal("local", Entry(name, Copy(name, "s3"), Copy(name, "local", DrillOutcome.Passed)).RestoreCopy.Target);
        Assert.Equal("local", Entry(name, Copy(name, "s3", verified: false), Copy(name, "local", DrillOutcome.Failed)).RestoreCopy.Target);
        Assert.Null(Entry(name, Copy(name, "s3", verified: false), Copy(name, "local", DrillOutcome.Failed)).SoundCopy);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
