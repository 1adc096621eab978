namespace Console.Domain.Restore;

/// <summary>Fills a member's command template with shell-quoted values from the restore plan.</summary>
public static class CommandTemplate
{
    public static string Fill(string template, RestorePlan plan, RestoreMemberPlan member)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(member);
        return template
            .Replace("{name}", Shell.Quote(member.Name), StringComparison.Ordinal)
            .Replace("{dataDir}", Shell.Quote(member.DataDir), StringComparison.Ordinal)
            .Replace("{peerUrl}", Shell.Quote(member.PeerUrl.ToString().TrimEnd('/')), StringComparison.Ordinal)
            .Replace("{snapshot}", Shell.Quote(plan.SnapshotPath), StringComparison.Ordinal)
            .Replace("{token}", Shell.Quote(plan.Token), StringComparison.Ordinal)
            .Replace("{initialCluster}", Shell.Quote(plan.InitialCluster), StringComparison.Ordinal)
            .Replace("{restoreDir}", Shell.Quote(member.RestoreDir), StringComparison.Ordinal)
            .Replace("{asideDir}", Shell.Quote(member.AsideDir), StringComparison.Ordinal);
    }
}
