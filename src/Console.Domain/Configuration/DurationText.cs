using System.Globalization;

namespace Console.Domain.Configuration;

/// <summary>
/// Durations as operators write them: "90s", "30m", "6h", "1d", "2w", or a .NET TimeSpan ("06:00:00", "1.00:00:00").
/// </summary>
public static class DurationText
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        var unit = trimmed[^1];
        TimeSpan? perUnit = char.ToLowerInvariant(unit) switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            'h' => TimeSpan.FromHours(1),
            'd' => TimeSpan.FromDays(1),
            'w' => TimeSpan.FromDays(7),
            _ => null,
        };

        if (perUnit is { } size)
        {
            if (!long.TryParse(trimmed[..^1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count)
                || Math.Abs((decimal)count) > TimeSpan.MaxValue.Ticks / size.Ticks)
            {
                return false;
            }

            value = size * count;
            return true;
        }

        return TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The shortest exact form: "6h", "90m", "1d"; falls back to a TimeSpan string.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        foreach (var (suffix, size) in Units)
        {
            if (value.Ticks % size.Ticks == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{value.Ticks / size.Ticks}{suffix}");
            }
        }

        return value.ToString("c", CultureInfo.InvariantCulture);
    }

    private static readonly (string Suffix, TimeSpan Size)[] Units =
    [
        ("w", TimeSpan.FromDays(7)),
        ("d", TimeSpan.FromDays(1)),
        ("h", TimeSpan.FromHours(1)),
        ("m", TimeSpan.FromMinutes(1)),
        ("s", TimeSpan.FromSeconds(1)),
    ];
}
