namespace Console.Domain.Backups;

/// <summary>Keep at most <see cref="Count"/> newest snapshots (null: no limit) and none older than <see cref="MaxAge"/> (null: no limit).</summary>
public sealed record RetentionPolicy(int? Count, TimeSpan? MaxAge)
{
    public static readonly RetentionPolicy Default = new(7, null);

    public override string ToString() => (Count, MaxAge) switch
    {
        (null, null) => "keep everything",
        ({ } c, null) => $"keep newest {c}",
        (null, { } a) => $"keep {Configuration.DurationText.Format(a)}",
        ({ } c, { } a) => $"keep newest {c}, at most {Configuration.DurationText.Format(a)} old",
    };
}

/// <summary>
/// What retention keeps and deletes, and why; <see cref="Foreign"/> are files named like our snapshots that the console
/// cannot vouch for (no manifest of ours, unknown to the ledger): they are neither counted nor deleted.
/// </summary>
public sealed record RetentionPlan(IReadOnlyList<SnapshotName> Keep, IReadOnlyList<(SnapshotName Name, string Reason)> Delete, IReadOnlyList<SnapshotName> Foreign);

public static class RetentionPlanner
{
    /// <summary>
    /// Plans pruning of one cluster's snapshots. Only names that parse as ours, belong to <paramref name="cluster"/> and
    /// are in <paramref name="known"/> (the console wrote a manifest for them or has them in its ledger) are counted: a
    /// look-alike dated in the future would otherwise push real snapshots out of the count. The newest known snapshot is
    /// always kept, whatever the policy (a backup system that deletes its last good copy is worse than none); protected
    /// names are never deleted.
    /// </summary>
    public static RetentionPlan Plan(
        IEnumerable<string> fileNames,
        Clusters.ClusterName cluster,
        RetentionPolicy policy,
        DateTimeOffset now,
        IReadOnlySet<string> known,
        IReadOnlySet<string>? protectedNames = null)
    {
        ArgumentNullException.ThrowIfNull(fileNames);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(known);
        var named = fileNames
            .Select(f => SnapshotName.TryParse(f, out var name) ? name : (SnapshotName?)null)
            .OfType<SnapshotName>()
            .Where(n => n.Cluster == cluster)
            .Distinct()
            .OrderByDescending(n => n.TakenAt)
            .ToList();
        var ours = named.Where(n => known.Contains(n.FileName)).ToList();
        var foreign = named.Where(n => !known.Contains(n.FileName)).ToList();

        var keep = new List<SnapshotName>();
        var delete = new List<(SnapshotName, string)>();
        for (var i = 0; i < ours.Count; i++)
        {
            var name = ours[i];
            string? reason = null;
            if (policy.Count is { } count && i >= count)
            {
                reason = $"beyond the newest {count}";
            }
            else if (policy.MaxAge is { } maxAge && now - name.TakenAt > maxAge)
            {
                reason = $"older than {Configuration.DurationText.Format(maxAge)}";
            }

            if (reason is null || i == 0 || (protectedNames?.Contains(name.FileName) ?? false))
            {
                keep.Add(name);
            }
            else
            {
                delete.Add((name, reason));
            }
        }

        return new RetentionPlan(keep, delete, foreign);
    }
}
