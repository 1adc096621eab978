using System.Collections.Immutable;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Alerts;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Scheduling;

namespace Console.Web.Components.Pages.Settings;

/// <summary>Alert channels (masked) and the conditions that hold now.</summary>
public sealed record AlertsView(IReadOnlyList<AlertChannel> Channels, IReadOnlyList<HeldCondition> Active);

/// <summary>One cluster's effective configuration and when its next scheduled backup is due.</summary>
public sealed record ClusterSettings(ClusterSpec Cluster, DateTimeOffset? NextRun);

/// <summary>
/// The problems of a schedule edit sorted by the field they are about, so each message can sit beside its field.
/// They come from the Domain's rules (<see cref="BackupScheduleRules"/>, the ones start-up uses), each with its field;
/// what is about the schedule as a whole (both or neither of interval and cron) sits beside both of those fields.
/// </summary>
public sealed record ScheduleProblems(
    ImmutableArray<string> Interval,
    ImmutableArray<string> Cron,
    ImmutableArray<string> RetentionCount,
    ImmutableArray<string> RetentionMaxAge)
{
    public static ScheduleProblems None { get; } = new([], [], [], []);

    public bool IsEmpty => Interval.IsEmpty && Cron.IsEmpty && RetentionCount.IsEmpty && RetentionMaxAge.IsEmpty;

    public static ScheduleProblems From(IEnumerable<ScheduleProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var sorted = None;
        foreach (var (field, message) in problems)
        {
            sorted = field switch
            {
                ScheduleField.Interval => sorted with { Interval = sorted.Interval.Add(message) },
                ScheduleField.Cron => sorted with { Cron = sorted.Cron.Add(message) },
                ScheduleField.RetentionCount => sorted with { RetentionCount = sorted.RetentionCount.Add(message) },
                ScheduleField.RetentionMaxAge => sorted with { RetentionMaxAge = sorted.RetentionMaxAge.Add(message) },
                _ => sorted with { Interval = sorted.Interval.Add(message), Cron = sorted.Cron.Add(message) },
            };
        }

        return sorted;
    }
}

/// <summary>
/// The Settings page's one service: the effective configuration of every cluster with its next run, published again
/// whenever a schedule or an override changes, and the schedule editor's checks and save (Admin, audited); the alert
/// channels with their conditions, and a channel's "Send test" (Admin, audited).
/// </summary>
public sealed class SettingsPageService(ClusterCatalog catalog, BackupScheduler scheduler, AlertService alerts)
{
    public async Task<AlertsView> LoadAlertsAsync(CancellationToken cancellationToken) =>
        new(alerts.Channels, await alerts.ActiveAsync(cancellationToken));

    /// <summary>The alerts view again whenever a condition starts or clears, until the subscription is disposed.</summary>
    public IDisposable SubscribeAlerts(Func<AlertsView, Task> onChange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        void Changed() => _ = PublishAsync();
        async Task PublishAsync()
        {
            try
            {
                await onChange(await LoadAlertsAsync(cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }

        alerts.Changed += Changed;
        return new Unsubscribe(() => alerts.Changed -= Changed);
    }

    /// <summary>Sends a test alert through <paramref name="channel"/> now; the outcome in words (never a secret).</summary>
    public Task<DeliveryResult> SendTestAsync(string channel, Actor by, CancellationToken cancellationToken) =>
        alerts.SendTestAsync(channel, by, cancellationToken);

    public async Task<IReadOnlyList<ClusterSettings>> LoadAsync(CancellationToken cancellationToken)
    {
        var clusters = new List<ClusterSettings>();
        foreach (var cluster in catalog.All)
        {
            clusters.Add(new ClusterSettings(cluster, await scheduler.NextRunAsync(cluster.Name.Value, cancellationToken)));
        }

        return clusters;
    }

    /// <summary>The clusters again after every change to schedules or overrides, until the subscription is disposed.</summary>
    public IDisposable Subscribe(Func<IReadOnlyList<ClusterSettings>, Task> onChange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        void Changed() => _ = PublishAsync();
        async Task PublishAsync()
        {
            try
            {
                await onChange(await LoadAsync(cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }

        scheduler.Changed += Changed;
        catalog.Changed += Changed;
        return new Unsubscribe(() =>
        {
            scheduler.Changed -= Changed;
            catalog.Changed -= Changed;
        });
    }

    /// <summary>The problems the rules find with <paramref name="edit"/>, without saving anything (as the operator types).</summary>
    public static ScheduleProblems Check(ClusterSpec cluster, ScheduleEdit edit)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(edit);
        return ScheduleProblems.From(BackupScheduleRules.Check(cluster.Backup.Enabled, edit.Interval, edit.Cron, edit.RetentionCount, edit.RetentionMaxAge));
    }

    /// <summary>Saves the edit (checked again by the scheduler, with the same rules); on any problem nothing changes.</summary>
    public async Task<ScheduleProblems> SaveAsync(string cluster, ScheduleEdit edit, Actor by, CancellationToken cancellationToken) =>
        ScheduleProblems.From(await scheduler.SaveAsync(cluster, edit, by, cancellationToken));

    private sealed class Unsubscribe(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
