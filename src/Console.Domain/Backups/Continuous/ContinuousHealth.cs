using Console.Domain.Configuration;

namespace Console.Domain.Backups;

/// <summary>
/// Continuous backup of one cluster at a glance: its recoverable window, what would be lost now (the RPO), its breaks,
/// and why it needs the operator, if it does. Only for clusters with Continuous enabled.
/// </summary>
public sealed record ContinuousHealth(RecoverableWindow Window, TimeSpan? Rpo, TimeSpan RpoLimit, string? AlertReason)
{
    /// <summary>The RPO is never judged tighter than this: a busy machine delays a flush by seconds without anything being wrong.</summary>
    public static readonly TimeSpan MinRpoLimit = TimeSpan.FromSeconds(30);

    public bool Alert => AlertReason is not null;

    public ContinuityBreak? NewestBreak => Window.Breaks.Count == 0 ? null : Window.Breaks.MaxBy(b => b.At);

    /// <summary>How old the newest durable state may get before the row stands out: ten flush intervals, at least <see cref="MinRpoLimit"/>.</summary>
    public static TimeSpan RpoLimitFor(ContinuousPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var tenFlushes = policy.FlushInterval * 10;
        return tenFlushes > MinRpoLimit ? tenFlushes : MinRpoLimit;
    }

    /// <summary>
    /// Null when Continuous is off. Otherwise the window with its alert: the RPO above the limit (or nothing durable
    /// although the console has been up that long: <paramref name="since"/>), or a break newer than the start of the
    /// newest span — continuity was lost and no full snapshot has started a new span since, so recent history cannot be
    /// rebuilt. A break older than the newest span is history: shown, but no alert.
    /// </summary>
    public static ContinuousHealth? Evaluate(ContinuousPolicy policy, RecoverableWindow? window, DateTimeOffset now, DateTimeOffset? since = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (!policy.Enabled || window is null)
        {
            return null;
        }

        var limit = RpoLimitFor(policy);
        var rpo = window.Rpo(now);
        var reasons = new List<string>();
        if (rpo is { } lost && lost > limit)
        {
            reasons.Add($"continuous backup is {DurationText.Format(Whole(lost))} behind (RPO), more than {DurationText.Format(limit)}");
        }
        else if (rpo is null && since is { } up && now - up > limit)
        {
            reasons.Add($"continuous backup has made nothing durable in {DurationText.Format(Whole(now - up))}");
        }

        var newest = window.Breaks.Count == 0 ? null : window.Breaks.MaxBy(b => b.At);
        if (newest is not null && (window.Current is not { } span || newest.At > span.FromTime))
        {
            reasons.Add($"continuity broke at {newest.At.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC after revision {newest.AfterRevision}: {newest.Reason}; later changes cannot be rebuilt until a new full snapshot");
        }

        return new ContinuousHealth(window, rpo, limit, reasons.Count == 0 ? null : string.Join("; ", reasons));
    }

    private static TimeSpan Whole(TimeSpan value) => TimeSpan.FromSeconds(Math.Floor(value.TotalSeconds));
}
