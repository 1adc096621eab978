using System.Globalization;

namespace Console.Domain.Backups;

/// <summary>
/// Cron as operators write it, in one dialect of our own, evaluated here (in UTC) rather than by any scheduling
/// library: standard 5-field cron ("0 */6 * * *": minute hour day-of-month month day-of-week), or 6 fields with
/// seconds first. Each field
/// takes numbers, names (JAN-DEC, SUN-SAT), '*', ranges, steps and lists; '?' means '*' in the day fields. Day of week
/// counts Sunday as 0 (or 7) in both forms. Parsing checks every value against its field's range,
/// <see cref="ShortestGap"/> says how close two firings can come (for the one-minute floor), and
/// <see cref="NextAfter"/> says when it fires next.
/// </summary>
public sealed class CronText
{
    private const int SecondsPerDay = 86_400;

    // The Gregorian calendar repeats (weekdays included) every 400 years, so one cycle holds every pattern of days.
    private const int DaysPer400Years = 146_097;

    private static readonly Field Second = new("second", 0, 59, []);
    private static readonly Field Minute = new("minute", 0, 59, []);
    private static readonly Field Hour = new("hour", 0, 23, []);
    private static readonly Field DayOfMonth = new("day of month", 1, 31, []);
    private static readonly Field Month = new("month", 1, 12, ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]);
    private static readonly Field DayOfWeek = new("day of week", 0, 7, ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]);

    private readonly string[] _fields;
    private readonly SortedSet<int>? _daysOfMonth;
    private readonly SortedSet<int> _months;
    private readonly SortedSet<int>? _daysOfWeek;

    // The seconds of the day at which it fires on a firing day, ascending.
    private readonly int[] _times;

    private CronText(string[] fields, SortedSet<int> seconds, SortedSet<int> minutes, SortedSet<int> hours, SortedSet<int>? daysOfMonth, SortedSet<int> months, SortedSet<int>? daysOfWeek)
    {
        (_fields, _months, _daysOfMonth, _daysOfWeek) = (fields, months, daysOfMonth, daysOfWeek);
        _times = (from h in hours from m in minutes from s in seconds select (h * 3600) + (m * 60) + s).Order().ToArray();
    }

    public static bool TryParse(string? text, out CronText cron, out string error)
    {
        cron = null!;
        var fields = (text ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length is not (5 or 6))
        {
            error = $"use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; it has {fields.Length}";
            return false;
        }

        error = string.Empty;
        var offset = fields.Length - 5;
        var seconds = offset == 1 ? Parse(fields[0], Second, out error) : [0];
        var minutes = seconds is null ? null : Parse(fields[offset], Minute, out error);
        var hours = minutes is null ? null : Parse(fields[offset + 1], Hour, out error);
        var (anyDayOfMonth, daysOfMonth) = hours is null ? (false, null) : ParseDay(fields[offset + 2], DayOfMonth, out error);
        var months = daysOfMonth is null ? null : Parse(fields[offset + 3], Month, out error);
        var (anyDayOfWeek, daysOfWeek) = months is null ? (false, null) : ParseDay(fields[offset + 4], DayOfWeek, out error);
        if (seconds is null || minutes is null || hours is null || daysOfMonth is null || months is null || daysOfWeek is null)
        {
            return false;
        }

        if (!anyDayOfMonth && !anyDayOfWeek)
        {
            // Standard cron fires when either matches, other dialects refuse the pair or read it otherwise: ask for one.
            error = "restrict the day of month or day of week, not both (put * or ? in one of them)";
            return false;
        }

        // Sunday is 0 and 7.
        if (daysOfWeek is not null && daysOfWeek.Remove(7))
        {
            daysOfWeek.Add(0);
        }

        cron = new CronText(fields, seconds, minutes, hours, anyDayOfMonth ? null : daysOfMonth, months, anyDayOfWeek ? null : daysOfWeek);
        error = string.Empty;
        return true;
    }

    /// <summary>
    /// The shortest time between two consecutive firings, or null when it never fires (such as on February 30th).
    /// Every firing day has the same times of day, so the answer is the smaller of the shortest gap within a day and
    /// the shortest gap from one firing day's last time to the next firing day's first.
    /// </summary>
    public TimeSpan? ShortestGap()
    {
        var times = _times;
        var withinDay = int.MaxValue;
        for (var i = 1; i < times.Length; i++)
        {
            withinDay = Math.Min(withinDay, times[i] - times[i - 1]);
        }

        var start = new DateOnly(2000, 1, 1);
        int? first = null, previous = null;
        var fewestDays = int.MaxValue;
        for (var day = 0; day < DaysPer400Years; day++)
        {
            if (!Fires(start.AddDays(day)))
            {
                continue;
            }

            first ??= day;
            if (previous is { } p)
            {
                fewestDays = Math.Min(fewestDays, day - p);
            }

            previous = day;
        }

        if (first is not { } firstDay)
        {
            return null;
        }

        // The cycle repeats: the last firing day of one cycle is followed by the first of the next.
        fewestDays = Math.Min(fewestDays, firstDay + DaysPer400Years - previous!.Value);
        var acrossDays = ((long)fewestDays * SecondsPerDay) - (times[^1] - times[0]);
        return TimeSpan.FromSeconds(Math.Min(withinDay, acrossDays));
    }

    /// <summary>
    /// The first firing strictly after <paramref name="after"/>, in UTC; null when it never fires again (searching one
    /// 400-year cycle of the calendar, which holds every pattern of days there is).
    /// </summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after)
    {
        var utc = after.UtcDateTime;
        var day = DateOnly.FromDateTime(utc);

        // Firing times are whole seconds: strictly after 10:00:05.3 means from 10:00:06, after 10:00:05 too.
        var afterSecond = (int)(utc.TimeOfDay.Ticks / TimeSpan.TicksPerSecond);
        for (var offset = 0; offset <= DaysPer400Years && day.DayNumber + offset <= DateOnly.MaxValue.DayNumber; offset++)
        {
            var date = day.AddDays(offset);
            if (!Fires(date))
            {
                continue;
            }

            foreach (var time in _times)
            {
                if (offset > 0 || time > afterSecond)
                {
                    return new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddSeconds(time);
                }
            }
        }

        return null;
    }

    public override string ToString() => string.Join(' ', _fields);

    private bool Fires(DateOnly date) =>
        _months.Contains(date.Month)
        && (_daysOfMonth is null || _daysOfMonth.Contains(date.Day))
        && (_daysOfWeek is null || _daysOfWeek.Contains((int)date.DayOfWeek));

    private static (bool Any, SortedSet<int>? Values) ParseDay(string text, Field field, out string error)
    {
        if (text is "*" or "?")
        {
            error = string.Empty;
            return (true, field.All());
        }

        return (false, Parse(text, field, out error));
    }

    private static SortedSet<int>? Parse(string text, Field field, out string error)
    {
        error = string.Empty;
        var values = new SortedSet<int>();
        foreach (var part in text.Split(','))
        {
            var (rangeText, stepText) = part.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0 ? (part[..slash], part[(slash + 1)..]) : (part, null);
            int from, to;
            if (rangeText == "*")
            {
                (from, to) = (field.Min, field.Max);
            }
            else if (rangeText.IndexOf('-', StringComparison.Ordinal) is var dash and > 0)
            {
                if (!field.TryValue(rangeText[..dash], out from, out error) || !field.TryValue(rangeText[(dash + 1)..], out to, out error))
                {
                    return null;
                }

                if (to < from)
                {
                    error = $"the {field.Name} range {rangeText} runs backwards";
                    return null;
                }
            }
            else if (!field.TryValue(rangeText, out from, out error))
            {
                return null;
            }
            else
            {
                // "5/15" means from 5 to the end, every 15.
                to = stepText is null ? from : field.Max;
            }

            var step = 1;
            if (stepText is not null && (!int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1))
            {
                error = $"the {field.Name} step {stepText} in '{part}' must be a whole number of at least 1";
                return null;
            }

            for (var value = from; value <= to; value += step)
            {
                values.Add(value);
            }
        }

        return values;
    }

    private sealed record Field(string Name, int Min, int Max, string[] Names)
    {
        public SortedSet<int> All() => [.. Enumerable.Range(Min, Max - Min + 1)];

        public bool TryValue(string text, out int value, out string error)
        {
            error = string.Empty;
            var named = Array.FindIndex(Names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
            if (named >= 0)
            {
                // Months are named from 1, weekdays from 0 (Sunday).
                value = named + (Min == 0 ? 0 : 1);
                return true;
            }

            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
            {
                error = $"'{text}' in the {Name} field is not a number{(Names.Length > 0 ? " or a name such as " + Names[0] : string.Empty)}";
                return false;
            }

            if (value < Min || value > Max)
            {
                error = string.Create(CultureInfo.InvariantCulture, $"{Name} {value} is out of range {Min}-{Max}");
                return false;
            }

            return true;
        }
    }
}
