using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Web.Access;

namespace Console.Web.Api;

internal static class BackupEndpoints
{
    public static IEndpointRouteBuilder MapBackupEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");

        api.MapPost("/clusters/{name}/backups", StartBackupAsync)
            .RequireAuthorization(Policies.Operator)
            .WithMetadata(new AuditedEndpoint(AuditActions.BackupNow, route => (route["name"]?.ToString(), null)));
        api.MapGet("/backups", ListBackupsAsync).RequireAuthorization(Policies.Viewer);
        api.MapGet("/backups/{id:long}", GetBackupAsync).RequireAuthorization(Policies.Viewer);
        return endpoints;
    }

    private static async Task<IResult> StartBackupAsync(string name, HttpContext context, BackupRunner runner, CancellationToken cancellationToken)
    {
        // Not even a possible cluster name: no cluster has it, and it is not worth an audit entry or an echo.
        if (!ClusterName.TryParse(name, out _, out _))
        {
            return Results.NotFound(new { error = $"there is no cluster by that name (a cluster name is at most {ClusterName.MaxLength} lower-case letters, digits and '-')" });
        }

        var start = await runner.StartAsync(name, BackupTrigger.Api, context.Actor(), cancellationToken);
        return start switch
        {
            BackupStart.Started s => Results.Accepted($"/api/backups/{s.Run.RecordId}", new { id = s.Run.RecordId, cluster = name, status = nameof(BackupStatus.Running) }),
            BackupStart.AlreadyRunning r => Results.Conflict(new
            {
                error = $"a backup of '{name}' is already running (record {r.Run.RecordId}, started {r.Run.StartedAt:u} by {r.Run.RequestedBy})",
                runningId = r.Run.RecordId,
                replica = r.Run.Replica,
            }),
            BackupStart.RunningElsewhere e => Results.Conflict(new
            {
                error = $"a backup of '{name}' is already running on replica {e.Replica ?? "(unknown)"}" + (e.RecordId is { } id ? $" (record {id})" : string.Empty),
                runningId = e.RecordId,
                replica = e.Replica,
            }),
            BackupStart.Suspended s => Results.Conflict(new { error = $"backups of '{name}' are suspended: {s.Reason}" }),
            _ => Results.NotFound(new { error = $"there is no cluster named '{name}'" }),
        };
    }

    private static async Task<IResult> ListBackupsAsync(BackupRecordStore records, string? cluster, BackupStatus? status, BackupTrigger? trigger, int? limit, CancellationToken cancellationToken)
    {
        var page = await records.QueryAsync(new BackupQuery(cluster, status, trigger, Take: Math.Clamp(limit ?? 50, 1, 1000)), cancellationToken);
        return Results.Ok(new { total = page.Total, items = page.Items.Select(BackupDto.From) });
    }

    private static async Task<IResult> GetBackupAsync(long id, BackupRecordStore records, CancellationToken cancellationToken) =>
        await records.GetAsync(id, cancellationToken) is { } record
            ? Results.Ok(BackupDto.From(record))
            : Results.NotFound(new { error = $"there is no backup record {id}" });
}

/// <summary>A backup record as the API shows it.</summary>
internal sealed record BackupDto(
    long Id,
    string Cluster,
    BackupStatus Status,
    BackupTrigger Trigger,
    string RequestedBy,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    double? DurationSeconds,
    string? Error,
    string? Member,
    string? MemberNote,
    string? FileName,
    string? Location,
    string Targets,
    long? SizeBytes,
    string? Sha256,
    long? Revision,
    string? EtcdVersion,
    double? ThroughputBytesPerSecond,
    string? RetentionNote,
    string? Replica,
    DateTimeOffset? Occurrence)
{
    public static BackupDto From(BackupRecord r) => new(
        r.Id, r.Cluster, r.Status, r.Trigger, r.RequestedBy, r.StartedAt, r.FinishedAt, r.Duration?.TotalSeconds, r.Error, r.Member, r.MemberNote,
        r.FileName, r.Location, r.Targets, r.SizeBytes, r.Sha256, r.Revision, r.EtcdVersion, r.Throughput, r.RetentionNote, r.Replica, r.Occurrence);
}
