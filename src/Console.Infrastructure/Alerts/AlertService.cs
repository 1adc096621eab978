using Console.Domain.Access;
using Console.Domain.Alerts;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Alerts;

/// <summary>
/// Alerts (decision record 0035). Every EvaluateEvery, the replica holding the alerts lock evaluates the conditions,
/// records each one that started or cleared (one alert each, whatever restarts or replicas do: the database decides) and
/// sends the deliveries that are due, retrying a failed one with back-off until Retry:Attempts. Every attempt is audited.
/// </summary>
public sealed partial class AlertService(
    IOptions<ConsoleSettings> settings,
    AlertStore store,
    AlertSender sender,
    IAlertFacts facts,
    ClusterBackupLocks locks,
    AuditLog audit,
    AccessGuard guard,
    ReplicaIdentity replica,
    TimeProvider clock,
    ILogger<AlertService> logger) : BackgroundService
{
    private static readonly Actor Sender = Actor.System("alerts");
    private readonly AlertSettings _alerts = settings.Value.Alerts;
    private readonly SemaphoreSlim _tick = new(1, 1);

    public IReadOnlyList<AlertChannel> Channels { get; } = AlertChannel.From(settings.Value.Alerts);

    /// <summary>A condition started or cleared, or a delivery's state changed.</summary>
    public event Action? Changed;

    public Task<IReadOnlyList<HeldCondition>> ActiveAsync(CancellationToken cancellationToken) => store.HeldAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Duration(_alerts.EvaluateEvery, TimeSpan.FromSeconds(15)), clock);
        do
        {
            try
            {
                await TickAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !stoppingToken.IsCancellationRequested)
            {
                LogTickFailed(logger, ex.GetType().Name, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One evaluation and one delivery pass, unless another replica holds the alerts lock (then it does them).</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        await _tick.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var held = await locks.TryTakeAlertsAsync(cancellationToken).ConfigureAwait(false);
            if (held is null)
            {
                return;
            }

            await using (held.ConfigureAwait(false))
            {
                await EvaluateAsync(cancellationToken).ConfigureAwait(false);
                await DeliverDueAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _tick.Release();
        }
    }

    private async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        TimeSpan? rpo = DurationText.TryParse(_alerts.RpoThreshold, out var threshold) ? threshold : null;
        var current = (await facts.ReadAsync(cancellationToken).ConfigureAwait(false))
            .SelectMany(f => AlertRules.Evaluate(f, _alerts.ConsecutiveFailures, rpo))
            .ToList();
        var held = (await store.HeldAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(h => h.Key, StringComparer.Ordinal);
        var (started, cleared) = AlertRules.Diff(held.Keys.ToHashSet(StringComparer.Ordinal), current);
        var channels = Channels.Select(c => c.Name).ToList();
        var changed = false;
        foreach (var condition in started)
        {
            var message = new AlertMessage(AlertMessage.Fired, condition.Name, condition.Cluster, condition.Subject, condition.Summary, condition.Detail, now, null, replica.Name, _alerts.ConsoleUrl);
            if (await store.StartAsync(condition, now, channels, message.ToJson(), cancellationToken).ConfigureAwait(false))
            {
                changed = true;
                LogStarted(logger, condition.Summary, channels.Count);
            }
        }

        foreach (var key in cleared)
        {
            var was = held[key];
            var summary = was.Condition == AlertCondition.RestoreInProgress ? $"{was.Cluster}: the restore finished" : $"{was.Summary}: cleared";
            var message = new AlertMessage(AlertMessage.Resolved, ActiveCondition.NameOf(was.Condition), was.Cluster, was.Subject, summary, was.Detail, was.StartedAt, now, replica.Name, _alerts.ConsoleUrl);
            if (await store.ClearAsync(was, now, channels, message.ToJson(), cancellationToken).ConfigureAwait(false))
            {
                changed = true;
                LogCleared(logger, was.Summary, channels.Count);
            }
        }

        if (changed)
        {
            Changed?.Invoke();
        }
    }

    private async Task DeliverDueAsync(CancellationToken cancellationToken)
    {
        var first = Duration(_alerts.Retry.FirstDelay, TimeSpan.FromSeconds(10));
        var max = Duration(_alerts.Retry.MaxDelay, TimeSpan.FromMinutes(10));
        foreach (var item in await store.DueAsync(clock.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            var channel = Channels.FirstOrDefault(c => c.Name == item.Channel);
            var result = channel is null
                ? new DeliveryResult(false, "the channel is no longer configured")
                : await sender.SendAsync(channel, AlertMessage.FromJson(item.Body), cancellationToken).ConfigureAwait(false);
            var now = clock.GetUtcNow();
            var attempt = item.Attempts + 1;
            var status = result.Delivered ? DeliveryStatus.Delivered
                : channel is null || attempt >= _alerts.Retry.Attempts ? DeliveryStatus.Failed
                : DeliveryStatus.Pending;
            var next = now + AlertRules.Backoff(attempt, first, max);
            if (!await store.RecordAttemptAsync(item.Id, item.Attempts, status, next, result.Delivered ? null : result.Detail, now, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            var outcome = status switch
            {
                DeliveryStatus.Delivered => "delivered",
                DeliveryStatus.Failed => "failed for good",
                _ => $"failed; next attempt at {next.UtcDateTime:HH:mm:ss} UTC",
            };
            var detail = $"attempt {attempt} of {_alerts.Retry.Attempts} via {channel?.KindName ?? "?"} {channel?.Where ?? string.Empty}: {result.Detail}; {outcome}";
            await audit.RecordAsync(Sender, AuditActions.AlertSend, item.Cluster, $"{item.Channel}: {item.Kind} {item.Condition}", result.Delivered ? AuditOutcome.Succeeded : AuditOutcome.Failed, detail, CancellationToken.None).ConfigureAwait(false);
            if (result.Delivered)
            {
                LogDelivered(logger, item.Channel, item.Kind, item.Condition, attempt);
            }
            else
            {
                LogDeliveryFailed(logger, item.Channel, item.Kind, item.Condition, attempt, result.Detail, outcome);
            }

            Changed?.Invoke();
        }
    }

    /// <summary>Sends a test alert through one channel now, once (Admin; audited with the outcome).</summary>
    public async Task<DeliveryResult> SendTestAsync(string channelName, Actor by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(by);
        var channel = Channels.FirstOrDefault(c => c.Name == channelName) ?? throw new ArgumentException($"There is no alert channel named '{channelName}'.", nameof(channelName));
        var now = clock.GetUtcNow();
        var message = new AlertMessage(AlertMessage.Test, "test", null, null, $"Test alert from {replica.Name}", $"{by.Label} sent a test alert to the channel {channel.Name}.", now, null, replica.Name, _alerts.ConsoleUrl);
        var result = await guard.AuditedAsync(
            by,
            Role.Admin,
            AuditActions.AlertTest,
            null,
            channel.Name,
            () => sender.SendAsync(channel, message, cancellationToken),
            r => (r.Delivered ? AuditOutcome.Succeeded : AuditOutcome.Failed, $"test via {channel.KindName} {channel.Where}: {r.Detail}"),
            cancellationToken).ConfigureAwait(false);
        LogTestSent(logger, channel.Name, channel.Where, by.Label, result.Delivered ? "delivered" : "failed", result.Detail);
        return result;
    }

    // Validated at start-up; the fallbacks are the defaults.
    private static TimeSpan Duration(string? text, TimeSpan fallback) => DurationText.TryParse(text, out var value) ? value : fallback;

    public override void Dispose()
    {
        _tick.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert: {Summary} (to {Channels} channels)")]
    private static partial void LogStarted(ILogger logger, string summary, int channels);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert cleared: {Summary} (to {Channels} channels)")]
    private static partial void LogCleared(ILogger logger, string summary, int channels);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert delivered to {Channel}: {Kind} {Condition} (attempt {Attempt})")]
    private static partial void LogDelivered(ILogger logger, string channel, string kind, string condition, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert delivery to {Channel} failed: {Kind} {Condition} (attempt {Attempt}): {Reason}; {Outcome}")]
    private static partial void LogDeliveryFailed(ILogger logger, string channel, string kind, string condition, int attempt, string reason, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Test alert to {Channel} ({Where}) by {Actor}: {Outcome} ({Detail})")]
    private static partial void LogTestSent(ILogger logger, string channel, string where, string actor, string outcome, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert evaluation failed ({Type}): {Message}")]
    private static partial void LogTickFailed(ILogger logger, string type, string message);
}
