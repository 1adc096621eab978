namespace Console.Domain.Restore;

/// <summary>Fills a member's command template with shell-quoted values from the restore plan.</summary>
public static class CommandTemplate
{
    /// <summary>Replaces each {placeholder} once, left to right, so a value that contains "{...}" is never filled again.</summary>
    public static string Fill(string template, RestorePlan plan, RestoreMemberPlan member)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(member);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["name"] = member.Name,
            ["dataDir"] = member.DataDir,
            ["peerUrl"] = member.PeerUrl.ToString().TrimEnd('/'),
            ["snapshot"] = plan.SnapshotPath,
            ["token"] = plan.Token,
            ["initialCluster"] = plan.InitialCluster,
            ["restoreDir"] = member.RestoreDir,
            ["asideDir"] = member.AsideDir,
        };
        return System.Text.RegularExpressions.Regex.Replace(template, @"\{([A-Za-z]+)\}", m => values.TryGetValue(m.Groups[1].Value, out var value) ? Shell.Quote(value) : m.Value);
    }
}
