using Console.Domain.Clusters;
using Console.Domain.Restore;

namespace Console.Web.Tests.Domain.Restore;

/// <summary>The procedure's rules as tables: a step and the members' states in, what may happen next out.</summary>
public sealed class RestoreProcedureTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 7, 40, 5, TimeSpan.Zero);

    /// <summary>"m1=Stopped,m2=AwaitingStop" → members; empty for none.</summary>
    private static RestoreProcedure At(RestoreStep step, string members = "") => new(
        step,
        members.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => new MemberProgress(Enum.Parse<MemberState>(p[1]), "detail")));

    [Theory]
    [InlineData(RestoreStep.Choose, RestoreAction.Choose, true)]
    [InlineData(RestoreStep.Choose, RestoreAction.Upload, true)]
    [InlineData(RestoreStep.Choose, RestoreAction.Verify, false)]
    [InlineData(RestoreStep.Verify, RestoreAction.Choose, true)]
    [InlineData(RestoreStep.Verify, RestoreAction.Verify, true)]
    [InlineData(RestoreStep.Verify, RestoreAction.AcceptPlan, false)]
    [InlineData(RestoreStep.Verify, RestoreAction.StopMembers, false)]
    [InlineData(RestoreStep.Plan, RestoreAction.AcceptPlan, true)]
    [InlineData(RestoreStep.Plan, RestoreAction.TakeSafetySnapshot, false)]
    [InlineData(RestoreStep.SafetySnapshot, RestoreAction.TakeSafetySnapshot, true)]
    [InlineData(RestoreStep.SafetySnapshot, RestoreAction.ProceedWithoutSafetySnapshot, true)]
    [InlineData(RestoreStep.SafetySnapshot, RestoreAction.StopMembers, false)]
    [InlineData(RestoreStep.StopMembers, RestoreAction.StopMembers, true)]
    [InlineData(RestoreStep.StopMembers, RestoreAction.MarkDone, true)]
    [InlineData(RestoreStep.StopMembers, RestoreAction.RestoreData, false)]
    [InlineData(RestoreStep.RestoreData, RestoreAction.RestoreData, true)]
    [InlineData(RestoreStep.RestoreData, RestoreAction.MarkDone, true)]
    [InlineData(RestoreStep.RestoreData, RestoreAction.StartMembers, false)]
    [InlineData(RestoreStep.StartMembers, RestoreAction.StartMembers, true)]
    [InlineData(RestoreStep.StartMembers, RestoreAction.MarkDone, false)]
    [InlineData(RestoreStep.Prove, RestoreAction.Prove, true)]
    [InlineData(RestoreStep.Prove, RestoreAction.StartMembers, false)]
    [InlineData(RestoreStep.Done, RestoreAction.Prove, false)]
    [InlineData(RestoreStep.Failed, RestoreAction.RestoreData, false)]
    [InlineData(RestoreStep.RolledBack, RestoreAction.Choose, false)]
    public void Each_step_allows_only_its_own_actions(RestoreStep step, RestoreAction action, bool allowed) =>
        Assert.Equal(allowed, At(step).WhyNot(action) is null);

    [Theory]
    [InlineData(RestoreStep.Choose, "", true, false)]
    [InlineData(RestoreStep.Plan, "", true, false)]
    [InlineData(RestoreStep.StopMembers, "m1=Stopped,m2=Running", true, false)]
    [InlineData(RestoreStep.RestoreData, "m1=Stopped,m2=Stopped", true, false)]
    [InlineData(RestoreStep.RestoreData, "m1=Restored,m2=Stopped", false, true)]
    [InlineData(RestoreStep.RestoreData, "m1=Restored,m2=Running", false, true)]
    [InlineData(RestoreStep.StartMembers, "m1=Restored,m2=Restored", false, true)]
    [InlineData(RestoreStep.StartMembers, "m1=Starting,m2=Starting", false, true)]
    [InlineData(RestoreStep.Prove, "m1=Started,m2=Started", false, true)]
    [InlineData(RestoreStep.Failed, "m1=Restored,m2=RestoreFailed", false, true)]
    [InlineData(RestoreStep.Failed, "m1=ByHand", false, true)]
    [InlineData(RestoreStep.Done, "m1=Started", false, false)]
    [InlineData(RestoreStep.RolledBack, "m1=RolledBack", false, false)]
    public void Abandon_only_before_any_data_is_replaced_roll_back_only_after(RestoreStep step, string members, bool abandon, bool rollBack)
    {
        var procedure = At(step, members);

        Assert.Equal(abandon, procedure.CanAbandon);
        Assert.Equal(rollBack, procedure.CanRollBack);
        Assert.Equal(abandon, procedure.WhyNot(RestoreAction.Abandon) is null);
        Assert.Equal(rollBack, procedure.WhyNot(RestoreAction.RollBack) is null);
    }

    [Fact]
    public void A_refusal_says_why_in_the_operator_s_words()
    {
        Assert.Equal("\"stop members\" is not possible at the Verify step", At(RestoreStep.Verify).WhyNot(RestoreAction.StopMembers));
        Assert.Equal("\"restore data\" is not possible at the Safety snapshot step", At(RestoreStep.SafetySnapshot).WhyNot(RestoreAction.RestoreData));
        Assert.Equal("a member's data was already replaced: use Roll back instead", At(RestoreStep.RestoreData, "m1=Restored").WhyNot(RestoreAction.Abandon));
        Assert.Equal("no member's data was replaced yet: use Abandon instead", At(RestoreStep.RestoreData, "m1=Stopped").WhyNot(RestoreAction.RollBack));
    }

    [Theory]
    [InlineData("m1=Stopped,m2=Stopped,m3=Stopped", RestoreStep.RestoreData)]
    [InlineData("m1=Stopped,m2=AwaitingStop,m3=Stopped", RestoreStep.StopMembers)]
    [InlineData("m1=Stopped,m2=Running", RestoreStep.StopMembers)]
    [InlineData("", RestoreStep.StopMembers)]
    public void The_stop_step_ends_when_every_member_is_proven_down(string members, RestoreStep next) =>
        Assert.Equal(next, At(RestoreStep.StopMembers, members).StepAfterStop);

    [Theory]
    [InlineData("m1=Restored,m2=Restored", RestoreStep.StartMembers)]
    [InlineData("m1=Restored,m2=AwaitingRestore", RestoreStep.RestoreData)]
    [InlineData("m1=Restored,m2=Stopped", RestoreStep.RestoreData)]
    public void The_restore_step_ends_when_every_member_holds_the_snapshot(string members, RestoreStep next) =>
        Assert.Equal(next, At(RestoreStep.RestoreData, members).StepAfterRestore);

    [Theory]
    [InlineData("m1=Restored", "m1", false)]
    [InlineData("m1=Starting", "m1", false)]
    [InlineData("m1=Stopped", "m1", true)]
    [InlineData("m1=RestoreFailed", "m1", true)]
    [InlineData("m1=Running", "m1", true)]
    [InlineData("", "m1", true)]
    public void A_member_already_restored_is_never_restored_again(string members, string member, bool needs) =>
        Assert.Equal(needs, At(RestoreStep.RestoreData, members).NeedsRestore(member));

    [Theory]
    [InlineData("m1=Restored,m2=Restored", "m1=RolledBack,m2=RolledBack", true)]
    [InlineData("m1=Restored,m2=Restored", "m1=RolledBack,m2=ByHand", false)]
    [InlineData("m1=Restored,m2=RestoreFailed", "m1=RolledBack,m2=ByHand", true)]
    [InlineData("m1=Restored,m2=AwaitingRestore", "m1=RolledBack,m2=ByHand", true)]
    public void A_roll_back_is_complete_when_every_replaced_member_is_back(string before, string after, bool complete) =>
        Assert.Equal(complete, At(RestoreStep.Failed, before).RolledBackFully(At(RestoreStep.Failed, after).Members));

    [Theory]
    [InlineData(RestoreStep.Plan, true, false)]
    [InlineData(RestoreStep.SafetySnapshot, true, false)]
    [InlineData(RestoreStep.StopMembers, true, true)]
    [InlineData(RestoreStep.Prove, true, true)]
    [InlineData(RestoreStep.Failed, true, true)]
    [InlineData(RestoreStep.Done, false, false)]
    [InlineData(RestoreStep.RolledBack, false, false)]
    public void Backups_stay_suspended_from_the_stop_until_the_restore_ends(RestoreStep step, bool active, bool suspends)
    {
        Assert.Equal(active, At(step).Active);
        Assert.Equal(suspends, At(step).SuspendsBackups);
    }

    [Theory]
    [InlineData(MemberControl.Managed, false)]
    [InlineData(MemberControl.Command, true)]
    [InlineData(MemberControl.Manual, true)]
    public void Only_members_the_console_does_not_run_may_be_marked_done(MemberControl control, bool may) =>
        Assert.Equal(may, RestoreProcedure.MayBeMarkedDone(control));

    [Fact]
    public void The_safety_snapshot_is_kept_a_week_from_now() =>
        Assert.Equal(Now.AddDays(7), RestoreProcedure.SafetySnapshotKeptUntil(Now));

    [Theory]
    [InlineData("stopped (proven down: its client and peer URLs refuse connections)", MemberState.Stopped)]
    [InlineData("stopped (marked by the operator; its client and peer URLs refuse connections)", MemberState.Stopped)]
    [InlineData("still answering: 127.0.0.1:2379 still accepts connections", MemberState.Running)]
    [InlineData("running again (127.0.0.1:2379 still accepts connections): its data was not touched", MemberState.Running)]
    [InlineData("waiting: run the stop command on the host, then mark it done", MemberState.AwaitingStop)]
    [InlineData("waiting: run the restore and move commands on the host, then mark it done", MemberState.AwaitingRestore)]
    [InlineData("restored: restored into /d; the old data is kept at /d.pre-restore-x", MemberState.Restored)]
    [InlineData("restored (marked by the operator: etcdutl snapshot restore ...)", MemberState.Restored)]
    [InlineData("failed: /d.restore-x already exists", MemberState.RestoreFailed)]
    [InlineData("start: `systemctl start etcd` exited 0", MemberState.Starting)]
    [InlineData("started", MemberState.Started)]
    [InlineData("the original data is back in /d", MemberState.RolledBack)]
    [InlineData("nothing to roll back: /d was not replaced", MemberState.RolledBack)]
    [InlineData("by hand: stop it, then `mv ...`, then start it", MemberState.ByHand)]
    [InlineData("not rolled back, its stop command failed (...)", MemberState.ByHand)]
    [InlineData("rolling back failed: denied; the original data is at /d.pre-restore-x", MemberState.ByHand)]
    public void States_saved_as_text_by_earlier_versions_are_read_by_their_first_words(string text, MemberState state)
    {
        var progress = MemberProgress.FromLegacyText(text);

        Assert.Equal(state, progress.State);
        Assert.Equal(text, progress.Detail);
    }
}
