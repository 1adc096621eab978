using Console.Domain.Backups;
using Console.Infrastructure.Backups;
using Quartz;

namespace Console.Infrastructure.Scheduling;

/// <summary>What a trigger runs: a backup through the same runner as "Back up now" (so still one run per cluster).</summary>
[DisallowConcurrentExecution]
public sealed class ScheduledBackupJob(BackupRunner runner) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cluster = context.MergedJobDataMap.GetString(BackupTriggers.ClusterKey)
            ?? throw new JobExecutionException("the trigger has no cluster");
        if (runner.SuspendedBecause(cluster) is not null)
        {
            return; // a restore is in progress; the schedule carries on afterwards
        }

        await runner.RunAsync(cluster, BackupTrigger.Scheduled, Console.Domain.Access.Actor.System("scheduler"), cancellationToken).ConfigureAwait(false);
    }
}
