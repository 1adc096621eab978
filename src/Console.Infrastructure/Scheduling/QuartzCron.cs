using Quartz;

namespace Console.Infrastructure.Scheduling;

/// <summary>Cron checks and arithmetic with Quartz's own parser, so what validates is exactly what the scheduler runs.</summary>
public static class QuartzCron
{
    /// <summary>Why a Quartz cron expression is invalid, or null when it is valid.</summary>
    public static string? Error(string quartzCron)
    {
        try
        {
            var expression = new CronExpression(quartzCron, TimeZoneInfo.Utc);
            return expression.GetNextValidTimeAfter(DateTimeOffset.UtcNow) is null ? "it never fires" : null;
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }
    }

    public static DateTimeOffset? NextAfter(string quartzCron, DateTimeOffset after) =>
        new CronExpression(quartzCron, TimeZoneInfo.Utc).GetNextValidTimeAfter(after);

    /// <summary>The gap between the next two firings after <paramref name="after"/>: the "period" used for staleness.</summary>
    public static TimeSpan? Period(string quartzCron, DateTimeOffset after)
    {
        var expression = new CronExpression(quartzCron, TimeZoneInfo.Utc);
        return expression.GetNextValidTimeAfter(after) is { } first && expression.GetNextValidTimeAfter(first) is { } second ? second - first : null;
    }
}
