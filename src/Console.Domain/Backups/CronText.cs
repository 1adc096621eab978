namespace Console.Domain.Backups;

/// <summary>
/// Cron as operators write it. Standard 5-field cron ("0 */6 * * *": minute hour day-of-month month day-of-week) is
/// turned into Quartz's 6-field form (seconds first, and '?' in one of the two day fields); 6- and 7-field Quartz
/// expressions pass through unchanged.
/// </summary>
public static class CronText
{
    public static string ToQuartz(string cron)
    {
        ArgumentNullException.ThrowIfNull(cron);
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length != 5)
        {
            return string.Join(' ', fields);
        }

        var (dayOfMonth, dayOfWeek) = (fields[2], fields[4]);
        if (dayOfWeek == "*")
        {
            dayOfWeek = "?";
        }
        else if (dayOfMonth == "*")
        {
            dayOfMonth = "?";
        }

        // Standard cron counts Sunday as 0 (and 7); Quartz counts it as 1 (SUN) to 7 (SAT).
        dayOfWeek = dayOfWeek is "?" or "*" ? dayOfWeek : ShiftWeekdays(dayOfWeek);
        return $"0 {fields[0]} {fields[1]} {dayOfMonth} {fields[3]} {dayOfWeek}";
    }

    private static string ShiftWeekdays(string field) =>
        string.Concat(field.Select(c => char.IsAsciiDigit(c) ? (char)('1' + ((c - '0') % 7)) : c));
}
