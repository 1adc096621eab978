using System.Globalization;

namespace Console.Domain.Backups;

/// <summary>
/// A point-in-time target as an operator types it (a UTC time to the second, or a revision), parsed once and checked
/// against the recoverable window: anything else gets a reason and chooses nothing.
/// </summary>
public static class PointInTimeChoice
{
    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-ddTHH:mm:ss",
        "yyyy-MM-dd HH:mm:ss'Z'",
        "yyyy-MM-ddTHH:mm:ss'Z'",
        "yyyy-MM-dd HH:mm:ss' UTC'",
    ];

    /// <summary>Exactly one of <paramref name="time"/> (UTC, to the second) and <paramref name="revision"/>.</summary>
    public static bool TryParse(string? time, string? revision, out PointInTimeTarget? target, out string? error)
    {
        target = null;
        var hasTime = !string.IsNullOrWhiteSpace(time);
        var hasRevision = !string.IsNullOrWhiteSpace(revision);
        error = (hasTime, hasRevision) switch
        {
            (false, false) => "give a time (UTC, e.g. 2026-12-02 14:03:07) or a revision",
            (true, true) => "give a time or a revision, not both",
            _ => null,
        };
        if (error is not null)
        {
            return false;
        }

        if (hasRevision)
        {
            if (!long.TryParse(revision!.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var r) || r <= 0)
            {
                error = $"'{revision.Trim()}' is not a revision (a whole number above 0)";
                return false;
            }

            target = PointInTimeTarget.AtRevision(r);
            return true;
        }

        if (!DateTime.TryParseExact(time!.Trim(), TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
        {
            error = $"'{time.Trim()}' is not a UTC time to the second (yyyy-MM-dd HH:mm:ss)";
            return false;
        }

        target = PointInTimeTarget.AtTime(new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)));
        return true;
    }

    /// <summary>Null when the target can be rebuilt (inside one unbroken span of the window); else why not, for an operator.</summary>
    public static string? WhyNot(RecoverableWindow window, PointInTimeTarget target)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(target);
        if (!window.Enabled)
        {
            return $"continuous backup is off for {window.Cluster}: only snapshots can be restored";
        }

        if (window.Spans.Count == 0)
        {
            return $"{window.Cluster} has no recoverable window yet: the first full snapshot with continuous backup starts it";
        }

        var inside = target switch
        {
            { Revision: { } r } => window.SpanOf(r) is not null,
            { Time: { } t } => window.SpanOf(t) is not null,
            _ => false,
        };
        if (inside)
        {
            return null;
        }

        var spans = string.Join("; ", window.Spans.Select(s => string.Create(CultureInfo.InvariantCulture,
            $"revisions {s.FromRevision} to {s.ToRevision}, {s.FromTime.UtcDateTime:yyyy-MM-dd HH:mm:ss} to {s.ToTime.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC")));
        return $"{target} is outside the recoverable window of {window.Cluster} ({spans}): nothing was chosen";
    }
}
