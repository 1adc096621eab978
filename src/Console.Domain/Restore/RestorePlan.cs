using System.Globalization;
using Console.Domain.Clusters;

namespace Console.Domain.Restore;

/// <summary>What happens to one member, and the exact commands for it.</summary>
public sealed record RestoreMemberPlan(
    string Name,
    Uri PeerUrl,
    string DataDir,
    MemberControl Control,
    string RestoreDir,
    string AsideDir,
    string RestoreCommand,
    IReadOnlyList<string> SwapCommands);

/// <summary>
/// The restore of a whole cluster from one snapshot: every member from the same file with the same new cluster token
/// (a member restored with another token never joins: "cluster ID mismatch"), each into a fresh sibling dir that is
/// then swapped in while the old data dir is moved aside, never deleted.
/// </summary>
public sealed record RestorePlan(
    ClusterName Cluster,
    string SnapshotPath,
    string Token,
    string InitialCluster,
    RestoreTool Tool,
    long? BumpRevision,
    IReadOnlyList<RestoreMemberPlan> Members,
    string? Note);

public static class RestorePlanner
{
    /// <summary>
    /// Plans the restore of <paramref name="members"/> from <paramref name="snapshotPath"/>. Directory names carry the
    /// UTC time so a second restore never collides with the first's leftovers.
    /// </summary>
    public static RestorePlan Plan(ClusterName cluster, IReadOnlyList<MemberSpec> members, string snapshotPath, RestoreTool tool, DateTimeOffset now, string token)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(tool);
        if (members.Count == 0)
        {
            throw new ArgumentException("a restore needs the cluster's members (Console:Clusters:N:Members)", nameof(members));
        }

        var missing = members.Where(m => m.PeerUrl is null || string.IsNullOrWhiteSpace(m.DataDir)).Select(m => m.Name).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"members {string.Join(", ", missing)} need a PeerUrl and a DataDir to be restored", nameof(members));
        }

        var stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var initialCluster = string.Join(',', members.Select(m => $"{m.Name}={Url(m.PeerUrl!)}"));
        long? bump = tool.SupportsRevisionBump ? RestoreTool.DefaultBump : null;
        var plans = members.Select(m =>
        {
            var dataDir = m.DataDir!.TrimEnd('/');
            var restoreDir = $"{dataDir}.restore-{stamp}";
            var asideDir = $"{dataDir}.pre-restore-{stamp}";
            var restore = string.Join(' ', new[]
            {
                tool.Name == "etcdctl" ? "ETCDCTL_API=3 etcdctl" : tool.Name,
                "snapshot restore", Shell.Quote(snapshotPath),
                "--name", Shell.Quote(m.Name),
                "--initial-cluster", Shell.Quote(initialCluster),
                "--initial-cluster-token", Shell.Quote(token),
                "--initial-advertise-peer-urls", Shell.Quote(Url(m.PeerUrl!)),
                "--data-dir", Shell.Quote(restoreDir),
            }.Concat(bump is { } b ? ["--bump-revision", b.ToString(CultureInfo.InvariantCulture), "--mark-compacted"] : []));
            string[] swap = [$"mv {Shell.Quote(dataDir)} {Shell.Quote(asideDir)}", $"mv {Shell.Quote(restoreDir)} {Shell.Quote(dataDir)}"];
            return new RestoreMemberPlan(m.Name, m.PeerUrl!, dataDir, m.Control, restoreDir, asideDir, restore, swap);
        }).ToList();

        var note = bump is null
            ? $"{tool} cannot bump revisions (needs 3.4.27+ or 3.5.10+): clients that watch (kube-apiserver) must be restarted after the restore, or they may miss changes."
            : $"revisions are bumped by {RestoreTool.DefaultBump:N0} and marked compacted, so watchers resynchronise instead of missing changes.";
        return new RestorePlan(cluster, snapshotPath, token, initialCluster, tool, bump, plans, note);
    }

    /// <summary>A fresh initial cluster token, never the old one (OpenShift's pattern: name plus a random suffix).</summary>
    public static string NewToken(ClusterName cluster, Guid random) => $"{cluster.Value}-restore-{random:N}"[..Math.Min(64, cluster.Value.Length + 41)];

    private static string Url(Uri url) => url.ToString().TrimEnd('/');
}

/// <summary>POSIX shell quoting for the commands an operator copies.</summary>
public static class Shell
{
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c, StringComparison.Ordinal))
            ? value
            : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
