namespace Console.Domain.Clusters;

/// <summary>
/// Automatic recovery of a cluster, opt-in and off by default. <see cref="AutoReplaceMember"/>: a member that fails
/// <see cref="ReplaceAfterChecks"/> successive status checks while the cluster keeps quorum without it is replaced
/// (never a manually controlled member). <see cref="AutoRestore"/>: quorum lost for longer than
/// <see cref="RestoreAfter"/> with every member controllable restores the cluster from the newest snapshot that passed
/// its restore drill (plus point-in-time deltas when continuous backup is on).
/// </summary>
public sealed record RecoveryPolicy(bool AutoReplaceMember, bool AutoRestore, int ReplaceAfterChecks, TimeSpan RestoreAfter)
{
    public const int DefaultReplaceAfterChecks = 3;

    public static readonly TimeSpan DefaultRestoreAfter = TimeSpan.FromMinutes(5);

    public static readonly RecoveryPolicy Off = new(false, false, DefaultReplaceAfterChecks, DefaultRestoreAfter);

    /// <summary>Whether anything automatic is armed.</summary>
    public bool Armed => AutoReplaceMember || AutoRestore;

    /// <summary>Every problem with a Recovery section, as start-up lists them.</summary>
    public static IEnumerable<string> Validate(string path, bool autoRestore, int replaceAfterChecks, string? restoreAfter, IEnumerable<(string Name, MemberControl Control)> members, bool membersKnown)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (replaceAfterChecks < 1)
        {
            yield return $"{path}:ReplaceAfterChecks must be 1 or more (successive failed status checks before a member is replaced), not {replaceAfterChecks}.";
        }

        if (!Configuration.DurationText.TryParse(restoreAfter, out var after) || after <= TimeSpan.Zero)
        {
            yield return $"{path}:RestoreAfter: '{restoreAfter}' is not a positive duration (for example \"5m\").";
        }

        if (autoRestore && membersKnown)
        {
            var list = members.ToList();
            if (list.Count == 0)
            {
                yield return $"{path}:AutoRestore needs the cluster's Members (Name, PeerUrl, DataDir, Control) to restore them.";
            }

            foreach (var (name, _) in list.Where(m => m.Control == MemberControl.Manual))
            {
                yield return $"{path}:AutoRestore cannot be on while member '{name}' is controlled by hand (Control: Manual); the console never restores members it does not control.";
            }
        }
    }
}
