using Bunit;
using Console.Domain.Restore;
using Console.Infrastructure.Restore;
using Console.Web.Components.Pages.Restore;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Console.Web.Tests.Components;

/// <summary>The wizard's step rules as the page shows them: which buttons each step and member state offers, and each member's data-state.</summary>
public sealed class RestoreWizardComponentTests : BunitContext, IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public RestoreWizardComponentTests()
    {
        Services.AddMudServices();
        Services.AddSingleton<AntiforgeryStateProvider>(new NoAntiforgery());
        JSInterop.Mode = JSRuntimeMode.Loose;
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    private static RestoreSession Session(RestoreStep step, string members = "") => new()
    {
        Id = 1,
        Cluster = "prod",
        StartedBy = "admin",
        Step = step,
        FailedAt = step == RestoreStep.Failed ? RestoreStep.RestoreData : null,
        Failure = step == RestoreStep.Failed ? "restoring m2 failed" : null,
        Members = members.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => new MemberProgress(Enum.Parse<MemberState>(p[1]), $"{p[0]} detail")),
    };

    private IRenderedComponent<StepPanel> Panel(RestoreSession session, List<WizardCommand>? commands = null) =>
        Render<StepPanel>(p => p
            .Add(c => c.View, new RestoreView("prod", session, null, [], [], null, Now))
            .Add(c => c.OnCommand, (WizardCommand c) => commands?.Add(c)));

    [Theory]
    [InlineData("prod_20261130T120000.000Z.db.zst.age", true)]
    [InlineData("prod_20261130T120000.000Z.db.age", true)]
    [InlineData("prod_20261130T120000.000Z.db.zst", false)]
    [InlineData("prod_20261130T120000.000Z.db", false)]
    public void Verify_of_an_encrypted_copy_takes_an_identity_for_this_step_and_forgets_it(string file, bool encrypted)
    {
        var commands = new List<WizardCommand>();
        var panel = Panel(Session(RestoreStep.Verify) with { SnapshotFile = file, SnapshotTarget = "s3" }, commands);

        Assert.Equal(encrypted, panel.FindAll("[data-testid=sealed-note]").Count == 1);
        if (encrypted)
        {
            var box = panel.Find("input[data-testid=identity]");
            Assert.Equal("password", box.GetAttribute("type"));
            box.Input("AGE-SECRET-KEY-1EXAMPLE");
        }

        panel.Find("button[data-testid=verify]").Click();
        panel.Find("button[data-testid=verify]").Click();

        Assert.Equal([new WizardCommand(RestoreAction.Verify, encrypted ? "AGE-SECRET-KEY-1EXAMPLE" : null), new WizardCommand(RestoreAction.Verify, null)], commands);
    }

    [Theory]
    [InlineData(RestoreStep.Choose, "", "abandon choose upload")]
    [InlineData(RestoreStep.Verify, "", "abandon verify")]
    [InlineData(RestoreStep.Plan, "", "abandon accept-plan")]
    [InlineData(RestoreStep.SafetySnapshot, "", "abandon confirm-no-safety-button safety")]
    [InlineData(RestoreStep.StopMembers, "", "abandon confirm-stop-button")]
    [InlineData(RestoreStep.StopMembers, "m1=Stopped,m2=AwaitingStop", "abandon confirm-stop-button mark-done")]
    [InlineData(RestoreStep.RestoreData, "m1=Stopped,m2=Stopped", "abandon confirm-restore-button")]
    [InlineData(RestoreStep.RestoreData, "m1=Restored,m2=AwaitingRestore", "confirm-restore-button mark-done rollback")]
    [InlineData(RestoreStep.StartMembers, "m1=Restored,m2=Restored", "rollback start")]
    [InlineData(RestoreStep.Prove, "m1=Started,m2=Started", "prove rollback")]
    [InlineData(RestoreStep.Done, "m1=Started,m2=Started", "fresh-backup")]
    [InlineData(RestoreStep.Failed, "m1=Restored,m2=RestoreFailed", "rollback")]
    [InlineData(RestoreStep.RolledBack, "m1=RolledBack,m2=RolledBack", "")]
    public void Each_step_offers_only_the_buttons_its_rules_allow(RestoreStep step, string members, string buttons)
    {
        var panel = Panel(Session(step, members));

        var shown = panel.FindAll("button[data-testid]").Select(b => b.GetAttribute("data-testid")!).Order(StringComparer.Ordinal);
        Assert.Equal(buttons.Split(' ', StringSplitOptions.RemoveEmptyEntries), shown);
    }

    [Fact]
    public void Every_member_shows_its_state_as_data_state_and_in_words()
    {
        var panel = Panel(Session(RestoreStep.StopMembers, "m1=Stopped,m2=AwaitingStop,m3=Running"));

        var rows = panel.FindAll("[data-testid=member-states] tr[data-member]");
        Assert.Equal(["m1:Stopped", "m2:AwaitingStop", "m3:Running"], rows.Select(r => $"{r.GetAttribute("data-member")}:{r.GetAttribute("data-state")}"));
        Assert.Contains("waiting to be stopped", rows[1].TextContent, StringComparison.Ordinal);
        Assert.Single(panel.FindAll("button[aria-label='Mark m2 done']"));
    }

    [Theory]
    [InlineData(RestoreStep.SafetySnapshot, "confirm-no-safety", RestorePhrases.ProceedWithoutSafetySnapshot, RestoreAction.ProceedWithoutSafetySnapshot)]
    [InlineData(RestoreStep.StopMembers, "confirm-stop", "prod", RestoreAction.StopMembers)]
    [InlineData(RestoreStep.RestoreData, "confirm-restore", "restore prod", RestoreAction.RestoreData)]
    public void A_confirmation_button_is_enabled_only_by_the_exact_phrase(RestoreStep step, string box, string phrase, RestoreAction action)
    {
        var commands = new List<WizardCommand>();
        var panel = Panel(Session(step, step == RestoreStep.RestoreData ? "m1=Stopped" : ""), commands);
        var input = panel.Find($"input[data-testid={box}]");
        AngleSharp.Dom.IElement Button() => panel.Find($"button[data-testid={box}-button]");

        foreach (var nearMiss in new[] { "", phrase[..^1], phrase.ToUpperInvariant(), phrase + " ", " " + phrase })
        {
            input.Input(nearMiss);
            Assert.True(Button().HasAttribute("disabled"), $"enabled by '{nearMiss}'");
            Assert.Equal("waiting", panel.Find($"[data-testid={box}-box]").GetAttribute("data-state"));
        }

        input.Input(phrase);
        Assert.False(Button().HasAttribute("disabled"));
        Assert.Equal("matches", panel.Find($"[data-testid={box}-box]").GetAttribute("data-state"));
        Button().Click();
        Assert.Equal([new WizardCommand(action, phrase)], commands);
    }

    [Fact]
    public void The_stepper_names_the_steps_in_words_and_ticks_the_ones_done()
    {
        var stepper = Render<WizardStepper>(p => p.Add(c => c.Session, Session(RestoreStep.SafetySnapshot)));

        foreach (var title in new[] { "Choose a snapshot", "Verify", "Plan", "Safety snapshot", "Stop members", "Restore data", "Start members", "Prove" })
        {
            Assert.Contains(title, stepper.Markup, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("SafetySnapshot<", stepper.Markup, StringComparison.Ordinal);
        Assert.Equal("SafetySnapshot", stepper.Find("[data-testid=restore-steps]").GetAttribute("data-state"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's services are IAsyncDisposable only, which bunit's synchronous Dispose (xunit v2's) cannot dispose.
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    private sealed class NoAntiforgery : AntiforgeryStateProvider
    {
        public override AntiforgeryRequestToken? GetAntiforgeryToken() => null;
    }
}
