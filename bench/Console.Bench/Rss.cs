using System.Globalization;

namespace Console.Bench;

/// <summary>This process's resident set, from /proc/self/status (Linux).</summary>
internal static class Rss
{
    /// <summary>VmRSS in bytes.</summary>
    public static long Current() => ReadStatusKiB("VmRSS:") * 1024;

    /// <summary>VmHWM (the peak VmRSS since start or since the last reset) in bytes.</summary>
    public static long HighWaterMark() => ReadStatusKiB("VmHWM:") * 1024;

    /// <summary>Resets VmHWM to the current VmRSS ("5" written to clear_refs, Linux 4.0+). False when not allowed.</summary>
    public static bool TryResetHighWaterMark()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Collects everything and gives freed memory back to the OS, so the baseline is not inflated by garbage.</summary>
    public static void ShrinkHeap()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private static long ReadStatusKiB(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                // "VmRSS:     123456 kB"
                var number = line.AsSpan(field.Length).Trim();
                number = number[..number.IndexOf(' ')];
                return long.Parse(number, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/self/status has no {field} line");
    }
}

/// <summary>Polls VmRSS every 10 ms on its own thread and keeps the largest value seen.</summary>
internal sealed class RssSampler : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stopping;
    private long _peak;

    private RssSampler()
    {
        _peak = Rss.Current();
        _thread = new Thread(Poll) { IsBackground = true, Name = "rss-sampler" };
    }

    public static RssSampler Start()
    {
        var sampler = new RssSampler();
        sampler._thread.Start();
        return sampler;
    }

    /// <summary>Stops polling and returns the peak VmRSS in bytes.</summary>
    public long Stop()
    {
        _stopping = true;
        _thread.Join();
        return Math.Max(Interlocked.Read(ref _peak), Rss.Current());
    }

    private void Poll()
    {
        while (!_stopping)
        {
            var now = Rss.Current();
            if (now > Interlocked.Read(ref _peak))
            {
                Interlocked.Exchange(ref _peak, now);
            }

            Thread.Sleep(10);
        }
    }

    public void Dispose()
    {
        if (!_stopping)
        {
            Stop();
        }
    }
}
