namespace Console.Domain.Backups;

/// <summary>
/// Restore drills of a cluster's copies: after every <see cref="Every"/>th successful full snapshot, each stored copy
/// is restored into a throwaway etcd and checked. On, after every snapshot, by default.
/// </summary>
public sealed record DrillPolicy(bool Enabled, int Every)
{
    public static readonly DrillPolicy Default = new(true, 1);

    public static readonly DrillPolicy Disabled = new(false, 1);

    /// <summary>Whether the <paramref name="successes"/>th successful full snapshot (counted from 1) is drilled.</summary>
    public bool DrillsSnapshot(long successes) => Enabled && successes > 0 && successes % Every == 0;

    /// <summary>Every problem with a Drill section, as start-up lists them.</summary>
    public static IEnumerable<string> Validate(string path, int every)
    {
        if (every < 1)
        {
            yield return $"{path}:Every must be 1 or more (drill after every Nth successful full snapshot), not {every}.";
        }
    }
}
