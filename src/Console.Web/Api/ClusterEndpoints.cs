using Console.Domain.Clusters;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Scheduling;
using Console.Web.Access;

namespace Console.Web.Api;

internal static class ClusterEndpoints
{
    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/clusters", ListAsync).RequireAuthorization(Policies.Viewer);
        return endpoints;
    }

    /// <summary>The backup status table as JSON, with each cluster's latest health, for dashboards and alerting.</summary>
    private static async Task<IResult> ListAsync(BackupStatusService backups, ClusterStatusBoard board, CancellationToken cancellationToken)
    {
        var rows = await backups.GetAsync(cancellationToken);
        return Results.Ok(rows.Select(row =>
        {
            var h = row.Health;
            var health = ClusterName.TryParse(h.Cluster, out var name, out _) ? board.Current.GetValueOrDefault(name) : null;
            return new
            {
                name = h.Cluster,
                configuration = h.Configuration,
                configurationError = h.ConfigurationError,
                lastBackupStatus = h.LastStatus,
                lastBackupError = h.LastError,
                lastSuccessAt = h.LastSuccessAt,
                lastAttemptAt = h.LastAttemptAt,
                consecutiveFailures = h.ConsecutiveFailures,
                nextRunAt = h.NextRunAt,
                paused = h.Paused,
                stale = h.Stale,
                staleReason = h.StaleReason,
                continuous = h.Continuous is not { } c ? null : new
                {
                    fromRevision = c.Window.Current?.FromRevision,
                    toRevision = c.Window.Current?.ToRevision,
                    fromTime = c.Window.Current?.FromTime,
                    toTime = c.Window.Current?.ToTime,
                    newestDurableTime = c.Window.NewestDurableTime,
                    rpoSeconds = c.Rpo?.TotalSeconds,
                    rpoLimitSeconds = c.RpoLimit.TotalSeconds,
                    breaks = c.Window.Breaks.Count,
                    newestBreak = c.NewestBreak is { } b ? new { afterRevision = b.AfterRevision, resumedAtRevision = b.ResumedAtRevision, at = b.At, reason = b.Reason } : null,
                    alert = c.Alert,
                },
                lastDrill = row.Proof.LastDrill is not { } d ? null : new { outcome = d.Outcome, reason = d.Reason, at = d.FinishedAt ?? d.StartedAt, target = d.Target, fileName = d.FileName, rtoSeconds = d.Rto?.TotalSeconds },
                lastDrillRtoSeconds = row.Proof.LastPassedDrill?.Rto?.TotalSeconds,
                failedVerifications = row.Proof.FailedVerifications.Select(v => new { target = v.Target, fileName = v.FileName, at = v.VerifiedAt, detail = v.Detail, verifiedBy = v.VerifiedBy }),
                storage = row.Storage.Select(s => new { target = s.Target, ok = s.Ok, detail = s.Detail, freeBytes = s.FreeBytes, checkedAt = s.CheckedAt }),
                health = health is null ? null : new { state = health.State, leader = health.LeaderName, membersUp = health.MembersUp, membersTotal = health.MembersTotal, alarms = health.Alarms, problems = health.Problems },
            };
        }));
    }
}
