namespace Console.Domain.Restore;

/// <summary>Steps, actions and member states in the operator's words (the audit trail and the page use these).</summary>
public static class RestoreWords
{
    public static string Of(RestoreStep step) => step switch
    {
        RestoreStep.Choose => "Choose a snapshot",
        RestoreStep.Verify => "Verify",
        RestoreStep.Plan => "Plan",
        RestoreStep.SafetySnapshot => "Safety snapshot",
        RestoreStep.StopMembers => "Stop members",
        RestoreStep.RestoreData => "Restore data",
        RestoreStep.StartMembers => "Start members",
        RestoreStep.Prove => "Prove",
        RestoreStep.Done => "Done",
        RestoreStep.Failed => "Failed",
        RestoreStep.RolledBack => "Rolled back",
        _ => step.ToString(),
    };

    /// <summary>Also the names in the restore audit trail (and, dashed, in the audit log), so keep them stable.</summary>
    public static string Of(RestoreAction action) => action switch
    {
        RestoreAction.Choose => "choose snapshot",
        RestoreAction.Upload => "upload snapshot",
        RestoreAction.Verify => "verify",
        RestoreAction.AcceptPlan => "accept plan",
        RestoreAction.TakeSafetySnapshot => "safety snapshot",
        RestoreAction.ProceedWithoutSafetySnapshot => "proceed without safety snapshot",
        RestoreAction.StopMembers => "stop members",
        RestoreAction.MarkDone => "mark done",
        RestoreAction.RestoreData => "restore data",
        RestoreAction.StartMembers => "start members",
        RestoreAction.Prove => "prove",
        RestoreAction.RollBack => "roll back",
        RestoreAction.Abandon => "abandon",
        _ => action.ToString(),
    };

    public static string Of(MemberState state) => state switch
    {
        MemberState.Running => "running",
        MemberState.AwaitingStop => "waiting to be stopped",
        MemberState.Stopped => "stopped",
        MemberState.AwaitingRestore => "waiting to be restored",
        MemberState.Restored => "restored",
        MemberState.RestoreFailed => "restore failed",
        MemberState.Starting => "starting",
        MemberState.Started => "started",
        MemberState.RolledBack => "rolled back",
        MemberState.ByHand => "to do by hand",
        _ => state.ToString(),
    };
}
