using System.Globalization;
using Console.Domain.Backups;

namespace Console.Web.Components.Shared;

/// <summary>A recoverable window as an operator reads it: whole revisions and whole seconds that can really be restored.</summary>
internal static class WindowText
{
    /// <summary>The first whole second inside the span (its start rounded up) and the last (its end rounded down).</summary>
    public static (DateTimeOffset From, DateTimeOffset To) Seconds(RecoverableSpan span)
    {
        ArgumentNullException.ThrowIfNull(span);
        var from = Truncate(span.FromTime);
        return (from < span.FromTime ? from.AddSeconds(1) : from, Truncate(span.ToTime));
    }

    public static string Range(RecoverableSpan span)
    {
        var (from, to) = Seconds(span);
        var seconds = from <= to ? $"any second from {TimeText.Utc(from)} to {TimeText.Utc(to)}" : $"no whole second yet (since {TimeText.Utc(span.FromTime)})";
        return string.Create(CultureInfo.InvariantCulture, $"any revision from {span.FromRevision:N0} to {span.ToRevision:N0}, {seconds}");
    }

    public static string Rpo(TimeSpan? rpo) => rpo is not { } r ? "–"
        : r.TotalSeconds < 120 ? string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)r.TotalSeconds)} s")
        : r.TotalMinutes < 120 ? string.Create(CultureInfo.InvariantCulture, $"{(int)r.TotalMinutes} min {r.Seconds} s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)r.TotalHours} h {r.Minutes} min");

    public static string Break(ContinuityBreak b)
    {
        ArgumentNullException.ThrowIfNull(b);
        var resumed = b.ResumedAtRevision is { } r ? string.Create(CultureInfo.InvariantCulture, $", resumed at revision {r:N0}") : ", not resumed yet";
        return string.Create(CultureInfo.InvariantCulture, $"{TimeText.Utc(b.At)}: after revision {b.AfterRevision:N0}{resumed} — {b.Reason}");
    }

    private static DateTimeOffset Truncate(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
