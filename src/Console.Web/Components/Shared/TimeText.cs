using System.Globalization;

namespace Console.Web.Components.Shared;

/// <summary>Times as an operator reads them: relative ("12 min ago", "in 3 h") with the exact UTC time alongside.</summary>
internal static class TimeText
{
    public static string Utc(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "–";

    public static string Relative(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } t)
        {
            return "–";
        }

        var delta = t - now;
        var span = delta.Duration();
        var text = span.TotalSeconds < 60 ? $"{Math.Max(1, (int)span.TotalSeconds)} s"
            : span.TotalMinutes < 120 ? $"{(int)span.TotalMinutes} min"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours} h"
            : $"{(int)span.TotalDays} d";
        return delta < TimeSpan.Zero ? $"{text} ago" : $"in {text}";
    }
}
