using Hangfire;

namespace Console.Infrastructure.Scheduling;

/// <summary>
/// The one recurring Hangfire job: asks the schedule what is due. Not retried (the next tick is seconds away); two
/// ticks at once are harmless, as each decides under <see cref="ScheduleStateStore"/>'s lock. Hangfire's
/// DisableConcurrentExecution is deliberately not used: with Hangfire.Storage.SQLite its lock is counted per thread, so
/// an async job releases it on another thread, never frees it, and every later tick fails to get it.
/// </summary>
[AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
public sealed class ScheduleTickJob(BackupScheduler scheduler)
{
    public Task RunAsync(CancellationToken cancellationToken) => scheduler.TickAsync(cancellationToken);
}
