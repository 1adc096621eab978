using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Hosting;

/// <summary>
/// Knows what shutdown is waiting for and says so in the log every few seconds, from the stop request until the
/// process exits. Services register each wait (a sandbox member, a backup settling); what they do not cover is
/// named by phase. Registered as the first hosted service, so it is stopped last and released last.
/// </summary>
public sealed partial class ShutdownWatch(IHostApplicationLifetime lifetime, TimeProvider clock, ILogger<ShutdownWatch> logger)
    : IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<long, (Func<string> Describe, long Since)> _waits = new();
    private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _registration;
    private ITimer? _reporter;
    private long _nextId;
    private long _stoppingSince;
    private volatile bool _servicesStopped;

    /// <summary>Completes when shutdown begins.</summary>
    public Task Stopping => _stopping.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStopping.Register(OnStopping);
        return Task.CompletedTask;
    }

    /// <summary>Called after every other hosted service has stopped (it was registered first).</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _servicesStopped = true;
        if (_stopping.Task.IsCompleted)
        {
            LogServicesStopped(logger, Elapsed.TotalSeconds);
        }

        return Task.CompletedTask;
    }

    /// <summary>Names something shutdown waits for until the returned handle is disposed.</summary>
    public IDisposable Waiting(string what) => Waiting(() => what);

    /// <summary>Names something shutdown waits for, described afresh at each report (its state may change).</summary>
    public IDisposable Waiting(Func<string> describe)
    {
        var id = Interlocked.Increment(ref _nextId);
        _waits[id] = (describe, clock.GetTimestamp());
        return new Release(this, id);
    }

    /// <summary>What shutdown waits for right now, oldest first, each with how long it has waited.</summary>
    public IReadOnlyList<string> StillWaitingFor()
    {
        var named = _waits.Values.OrderBy(w => w.Since)
            .Select(w => $"{w.Describe()} ({clock.GetElapsedTime(w.Since).TotalSeconds:0} s)")
            .ToList();
        if (named.Count > 0)
        {
            return named;
        }

        return [_servicesStopped ? "the release of services" : "the web server and the host's other services (open connections, the scheduler, background loops)"];
    }

    /// <summary>Logs that the process exits now, without waiting any longer for what is still named.</summary>
    public void GiveUp(TimeSpan budget) => LogGivingUp(logger, budget.TotalSeconds, string.Join("; ", StillWaitingFor()));

    public void Dispose()
    {
        _registration.Dispose();
        _reporter?.Dispose();
    }

    private TimeSpan Elapsed => clock.GetElapsedTime(Interlocked.Read(ref _stoppingSince));

    private void OnStopping()
    {
        Interlocked.Exchange(ref _stoppingSince, clock.GetTimestamp());
        _reporter = clock.CreateTimer(_ => Report(), null, ShutdownBudget.ReportInterval, ShutdownBudget.ReportInterval);
        _stopping.TrySetResult();
    }

    private void Report() => LogStillWaiting(logger, Elapsed.TotalSeconds, string.Join("; ", StillWaitingFor()));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown has taken {Seconds:0} s; still waiting for: {Waits}")]
    private static partial void LogStillWaiting(ILogger logger, double seconds, string waits);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutdown: every service stopped after {Seconds:0.0} s")]
    private static partial void LogServicesStopped(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Shutdown did not finish within {Seconds:0} s; exiting without waiting any longer for: {Waits}")]
    private static partial void LogGivingUp(ILogger logger, double seconds, string waits);

    private sealed class Release(ShutdownWatch watch, long id) : IDisposable
    {
        public void Dispose() => watch._waits.TryRemove(id, out _);
    }
}
