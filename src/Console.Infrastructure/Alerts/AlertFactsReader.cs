using Console.Domain.Alerts;
using Console.Domain.Restore;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Scheduling;

namespace Console.Infrastructure.Alerts;

/// <summary>Where alert conditions come from: one <see cref="AlertFacts"/> per cluster, as things stand now.</summary>
public interface IAlertFacts
{
    Task<IReadOnlyList<AlertFacts>> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The status table's rows (failures in a row, staleness, storage, continuous RPO and breaks), each cluster's newest
/// finished drill, and its active restore once the operator accepted the plan (members are about to be touched).
/// </summary>
public sealed class AlertFactsReader(BackupStatusService status, DrillLedger drills, RestoreSessionStore restores) : IAlertFacts
{
    public async Task<IReadOnlyList<AlertFacts>> ReadAsync(CancellationToken cancellationToken)
    {
        var rows = await status.GetAsync(cancellationToken).ConfigureAwait(false);
        var lastDrills = await drills.LatestByClusterAsync(cancellationToken).ConfigureAwait(false);
        var sessions = (await restores.AllActiveAsync(cancellationToken).ConfigureAwait(false))
            .Where(s => s.Active && s.Step >= RestoreStep.SafetySnapshot)
            .ToDictionary(s => s.Cluster, StringComparer.Ordinal);
        return [.. rows.Select(row => new AlertFacts(
            row.Health,
            [.. row.Storage.Where(t => t.CheckedAt != DateTimeOffset.MinValue).Select(t => (t.Target, t.Ok, t.Detail))],
            lastDrills.GetValueOrDefault(row.Health.Cluster).Last,
            sessions.TryGetValue(row.Health.Cluster, out var session) ? (session.StartedBy, session.Step.ToString()) : null))];
    }
}
