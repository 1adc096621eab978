namespace Console.Domain.Backups;

/// <summary>
/// Continuous backup of one cluster: after each full snapshot a watcher follows the whole keyspace and writes delta
/// segments, each flushed after <see cref="FlushInterval"/> or once it holds <see cref="MaxSegmentBytes"/> of events.
/// </summary>
public sealed record ContinuousPolicy(bool Enabled, TimeSpan FlushInterval, long MaxSegmentBytes)
{
    public const long DefaultMaxSegmentBytes = 8L << 20;
    public const long MinSegmentBytes = 64L << 10;
    public const long MaxAllowedSegmentBytes = 256L << 20;
    public static readonly TimeSpan DefaultFlushInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxFlushInterval = TimeSpan.FromSeconds(10);

    public static readonly ContinuousPolicy Disabled = new(false, DefaultFlushInterval, DefaultMaxSegmentBytes);

    /// <summary>Every problem with a Continuous section at <paramref name="path"/> (e.g. "Console:Clusters:0:Backup:Continuous").</summary>
    public static IEnumerable<string> Validate(string path, string? flushInterval, long maxSegmentBytes)
    {
        if (!Configuration.DurationText.TryParse(flushInterval, out var flush))
        {
            yield return $"{path}:FlushInterval: '{flushInterval}' is not a duration (e.g. \"1s\", \"00:00:00.5\").";
        }
        else if (flush <= TimeSpan.Zero || flush > MaxFlushInterval)
        {
            yield return $"{path}:FlushInterval must be more than 0 and at most {Configuration.DurationText.Format(MaxFlushInterval)} (was {flushInterval}): a longer wait only loses more on a crash.";
        }

        if (maxSegmentBytes < MinSegmentBytes || maxSegmentBytes > MaxAllowedSegmentBytes)
        {
            yield return $"{path}:MaxSegmentBytes must be between {MinSegmentBytes} and {MaxAllowedSegmentBytes} (was {maxSegmentBytes}).";
        }
    }
}
