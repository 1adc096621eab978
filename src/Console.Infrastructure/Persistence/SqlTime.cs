using System.Globalization;

namespace Console.Infrastructure.Persistence;

/// <summary>Times in SQLite: fixed-width ISO-8601 UTC text, so they compare and sort correctly as text.</summary>
internal static class SqlTime
{
    public static string Text(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
