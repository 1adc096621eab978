using Console.Domain.Alerts;
using Dapper;

namespace Console.Infrastructure.Persistence;

public enum DeliveryStatus
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>One alert for one channel in the outbox.</summary>
public sealed record OutboxItem(long Id, string Channel, string Kind, string Condition, string? Cluster, string Body, DeliveryStatus Status, int Attempts, DateTimeOffset NextAttemptAt, string? LastError);

/// <summary>A condition that holds, as stored: since when.</summary>
public sealed record HeldCondition(string Key, AlertCondition Condition, string Cluster, string? Subject, string Summary, string Detail, DateTimeOffset StartedAt);

/// <summary>
/// Alerts' state (migration 13): the conditions that hold, and the delivery outbox. A condition's start or clearing and
/// its deliveries are written in one transaction, and only by the writer whose insert (or delete) took effect, so two
/// evaluations of the same change (a second replica, a retry after a crash) enqueue it once.
/// </summary>
public sealed class AlertStore(ConsoleDatabase database)
{
    private const string OutboxColumns = "id AS Id, channel AS Channel, kind AS Kind, condition AS Condition, cluster AS Cluster, body AS Body, status AS Status, attempts AS Attempts, next_attempt_at AS NextAttemptAt, last_error AS LastError";

    public async Task<IReadOnlyList<HeldCondition>> HeldAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<ConditionRow>(
                "SELECT key AS Key, condition AS Condition, cluster AS Cluster, subject AS Subject, summary AS Summary, detail AS Detail, started_at AS StartedAt FROM alert_conditions ORDER BY started_at, key").ConfigureAwait(false);
            return [.. rows.Select(r => new HeldCondition(r.Key, Enum.Parse<AlertCondition>(r.Condition), r.Cluster, r.Subject, r.Summary, r.Detail, SqlTime.Parse(r.StartedAt)))];
        }
    }

    /// <summary>Records that <paramref name="condition"/> started and enqueues <paramref name="body"/> for each channel; false (nothing written) when it was recorded already.</summary>
    public Task<bool> StartAsync(ActiveCondition condition, DateTimeOffset now, IReadOnlyList<string> channels, string body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return ChangeAsync(
            "INSERT INTO alert_conditions (key, condition, cluster, subject, summary, detail, started_at) VALUES (@Key, @condition, @Cluster, @Subject, @Summary, @Detail, @now) ON CONFLICT DO NOTHING",
            new { condition.Key, condition = condition.Condition.ToString(), condition.Cluster, condition.Subject, condition.Summary, condition.Detail, now = SqlTime.Text(now) },
            condition.Condition,
            condition.Cluster,
            Alerts.AlertMessage.Fired,
            now,
            channels,
            body,
            cancellationToken);
    }

    /// <summary>Records that <paramref name="held"/> cleared and enqueues <paramref name="body"/> for each channel; false when another writer cleared it first.</summary>
    public Task<bool> ClearAsync(HeldCondition held, DateTimeOffset now, IReadOnlyList<string> channels, string body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(held);
        return ChangeAsync("DELETE FROM alert_conditions WHERE key = @Key", new { held.Key }, held.Condition, held.Cluster, Alerts.AlertMessage.Resolved, now, channels, body, cancellationToken);
    }

    private async Task<bool> ChangeAsync(string sql, object parameters, AlertCondition condition, string cluster, string kind, DateTimeOffset now, IReadOnlyList<string> channels, string body, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                if (await connection.ExecuteAsync(sql, parameters, transaction).ConfigureAwait(false) != 1)
                {
                    return false;
                }

                foreach (var channel in channels)
                {
                    await connection.ExecuteAsync(
                        """
                        INSERT INTO alert_outbox (channel, kind, condition, cluster, body, status, attempts, next_attempt_at, created_at)
                        VALUES (@channel, @kind, @condition, @cluster, @body, @pending, 0, @now, @now)
                        """,
                        new { channel, kind, condition = condition.ToString(), cluster, body, pending = nameof(DeliveryStatus.Pending), now = SqlTime.Text(now) },
                        transaction).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    /// <summary>Pending deliveries due at <paramref name="now"/>, oldest first.</summary>
    public async Task<IReadOnlyList<OutboxItem>> DueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<Row>(
                $"SELECT {OutboxColumns} FROM alert_outbox WHERE status = @pending AND next_attempt_at <= @now ORDER BY id",
                new { pending = nameof(DeliveryStatus.Pending), now = SqlTime.Text(now) }).ConfigureAwait(false);
            return [.. rows.Select(r => r.ToItem())];
        }
    }

    /// <summary>Every delivery, newest first (for tests and the operator's questions).</summary>
    public async Task<IReadOnlyList<OutboxItem>> RecentAsync(int take, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<Row>($"SELECT {OutboxColumns} FROM alert_outbox ORDER BY id DESC LIMIT @take", new { take }).ConfigureAwait(false);
            return [.. rows.Select(r => r.ToItem())];
        }
    }

    /// <summary>
    /// Writes an attempt's outcome, only when nobody recorded this attempt before (attempts still <paramref name="attemptsBefore"/>):
    /// false means another writer did, and this attempt's outcome is not the record's.
    /// </summary>
    public async Task<bool> RecordAttemptAsync(long id, int attemptsBefore, DeliveryStatus status, DateTimeOffset nextAttemptAt, string? error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await connection.ExecuteAsync(
                """
                UPDATE alert_outbox SET attempts = attempts + 1, status = @status, next_attempt_at = @next, last_error = @error,
                    finished_at = CASE WHEN @status = @pending THEN NULL ELSE @now END
                WHERE id = @id AND attempts = @attemptsBefore AND status = @pending
                """,
                new { id, attemptsBefore, status = status.ToString(), pending = nameof(DeliveryStatus.Pending), next = SqlTime.Text(nextAttemptAt), error, now = SqlTime.Text(now) }).ConfigureAwait(false) == 1;
        }
    }

    private sealed record ConditionRow(string Key, string Condition, string Cluster, string? Subject, string Summary, string Detail, string StartedAt);

    private sealed record Row(long Id, string Channel, string Kind, string Condition, string? Cluster, string Body, string Status, long Attempts, string NextAttemptAt, string? LastError)
    {
        public OutboxItem ToItem() => new(Id, Channel, Kind, Condition, Cluster, Body, Enum.Parse<DeliveryStatus>(Status), (int)Attempts, SqlTime.Parse(NextAttemptAt), LastError);
    }
}
