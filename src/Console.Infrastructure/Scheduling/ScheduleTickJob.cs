using Hangfire;

namespace Console.Infrastructure.Scheduling;

/// <summary>
/// The one recurring Hangfire job: asks the schedule what is due. Not retried (the next tick is seconds away) and never
/// run twice at once; a tick that finds nothing due does nothing.
/// </summary>
[AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
public sealed class ScheduleTickJob(BackupScheduler scheduler)
{
    [DisableConcurrentExecution(timeoutInSeconds: 0)]
    public Task RunAsync(CancellationToken cancellationToken) => scheduler.TickAsync(cancellationToken);
}
