namespace Console.Domain.Restore;

/// <summary>
/// The steps of the etcd disaster-recovery procedure, in order, then how it ended. The numbers are persisted: never
/// reorder them.
/// </summary>
public enum RestoreStep
{
    Choose,
    Verify,
    Plan,
    SafetySnapshot,
    StopMembers,
    RestoreData,
    StartMembers,
    Prove,
    Done,
    Failed,
    RolledBack,
}

/// <summary>What an operator (or the upload endpoint) asks the wizard to do.</summary>
public enum RestoreAction
{
    Choose,
    Upload,
    Verify,
    AcceptPlan,
    TakeSafetySnapshot,
    ProceedWithoutSafetySnapshot,
    StopMembers,
    MarkDone,
    RestoreData,
    StartMembers,
    Prove,
    RollBack,
    Abandon,
}

/// <summary>
/// The procedure's rules, pure: which action each step allows, when a restore may be abandoned (before any member's
/// data is replaced) or rolled back (once some is), which step follows a member-by-member step, and the few rules of
/// time. The wizard asks these; the page asks the same ones to choose its buttons, so the two never disagree.
/// </summary>
public sealed record RestoreProcedure(RestoreStep Step, IReadOnlyDictionary<string, MemberProgress> Members)
{
    /// <summary>The eight steps an operator walks through, in order.</summary>
    public static readonly IReadOnlyList<RestoreStep> Steps =
        [RestoreStep.Choose, RestoreStep.Verify, RestoreStep.Plan, RestoreStep.SafetySnapshot, RestoreStep.StopMembers, RestoreStep.RestoreData, RestoreStep.StartMembers, RestoreStep.Prove];

    /// <summary>How long the safety snapshot is kept out of retention: long enough to notice a bad restore.</summary>
    public static readonly TimeSpan SafetyRetention = TimeSpan.FromDays(7);

    /// <summary>How long started members get to elect a leader before the start step says which did not.</summary>
    public static readonly TimeSpan StartWait = TimeSpan.FromSeconds(60);

    public bool Active => Step is not (RestoreStep.Done or RestoreStep.RolledBack);

    /// <summary>Some member's data dir already holds the snapshot's data: only Roll back undoes that.</summary>
    public bool AnyDataReplaced => Members.Values.Any(m => m.DataReplaced);

    /// <summary>From the stop on (and after a restart), a backup would snapshot a cluster being taken apart.</summary>
    public bool SuspendsBackups => Active && Step >= RestoreStep.StopMembers;

    public bool CanAbandon => Step <= RestoreStep.RestoreData && !AnyDataReplaced;

    public bool CanRollBack => Step == RestoreStep.Failed || (Step is RestoreStep.RestoreData or RestoreStep.StartMembers or RestoreStep.Prove && AnyDataReplaced);

    /// <summary>Null when <paramref name="action"/> may run now; otherwise why not, in words.</summary>
    public string? WhyNot(RestoreAction action)
    {
        var allowed = action switch
        {
            RestoreAction.Choose or RestoreAction.Upload => Step is RestoreStep.Choose or RestoreStep.Verify,
            RestoreAction.Verify => Step == RestoreStep.Verify,
            RestoreAction.AcceptPlan => Step == RestoreStep.Plan,
            RestoreAction.TakeSafetySnapshot or RestoreAction.ProceedWithoutSafetySnapshot => Step == RestoreStep.SafetySnapshot,
            RestoreAction.StopMembers => Step == RestoreStep.StopMembers,
            RestoreAction.MarkDone => Step is RestoreStep.StopMembers or RestoreStep.RestoreData,
            RestoreAction.RestoreData => Step == RestoreStep.RestoreData,
            RestoreAction.StartMembers => Step == RestoreStep.StartMembers,
            RestoreAction.Prove => Step == RestoreStep.Prove,
            RestoreAction.RollBack => CanRollBack,
            RestoreAction.Abandon => CanAbandon,
            _ => false,
        };
        if (allowed)
        {
            return null;
        }

        return action switch
        {
            RestoreAction.Abandon when Active && AnyDataReplaced => "a member's data was already replaced: use Roll back instead",
            RestoreAction.RollBack when Step == RestoreStep.RestoreData => "no member's data was replaced yet: use Abandon instead",
            _ => $"\"{RestoreWords.Of(action)}\" is not possible at the {RestoreWords.Of(Step)} step",
        };
    }

    /// <summary>The stop step is done when every member is proven down; until then it stays.</summary>
    public RestoreStep StepAfterStop => Members.Count > 0 && Members.Values.All(m => m.State == MemberState.Stopped) ? RestoreStep.RestoreData : RestoreStep.StopMembers;

    /// <summary>The restore step is done when every member holds the snapshot's data.</summary>
    public RestoreStep StepAfterRestore => Members.Count > 0 && Members.Values.All(m => m.State == MemberState.Restored) ? RestoreStep.StartMembers : RestoreStep.RestoreData;

    /// <summary>A destructive step is never repeated on a member: one already restored is skipped (after a restart too).</summary>
    public bool NeedsRestore(string member) => !(Members.TryGetValue(member, out var progress) && progress.DataReplaced);

    /// <summary>
    /// A roll back is complete when every member is back on its original data; a member only the operator can move
    /// (its state says how) counts as back only if its data was never replaced.
    /// </summary>
    public bool RolledBackFully(IReadOnlyDictionary<string, MemberProgress> after)
    {
        ArgumentNullException.ThrowIfNull(after);
        return after.All(m => m.Value.State == MemberState.RolledBack || (m.Value.State == MemberState.ByHand && NeedsRestore(m.Key)));
    }

    /// <summary>A member the console does not run itself may be marked done by the operator.</summary>
    public static bool MayBeMarkedDone(Clusters.MemberControl control) => control != Clusters.MemberControl.Managed;

    public static DateTimeOffset SafetySnapshotKeptUntil(DateTimeOffset now) => now + SafetyRetention;

    public static DateTimeOffset StartDeadline(DateTimeOffset now) => now + StartWait;
}
