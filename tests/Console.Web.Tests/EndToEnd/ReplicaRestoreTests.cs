using System.Net;
using System.Net.Http.Headers;
using Console.Domain.Access;
using Console.Domain.Restore;
using Console.Infrastructure.Backups;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Console.Web.Tests.EndToEnd;

/// <summary>One restore per cluster across replicas, resumable on any of them, and backups refused on every one meanwhile.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ReplicaRestoreTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_restore_begun_on_one_replica_is_the_only_one_and_suspends_backups_on_the_other()
    {
        await using var replicas = await Replicas.StartAsync(postgres);
        var admin = await replicas.A.ActorAsync(Role.Admin);
        var wizardA = replicas.A.Services.GetRequiredService<RestoreWizard>();
        var wizardB = replicas.B.Services.GetRequiredService<RestoreWizard>();

        // Begun on both at once: one session between them, the second resumes the first.
        var begun = await Task.WhenAll(wizardA.BeginAsync("up", admin, CancellationToken.None), wizardB.BeginAsync("up", admin, CancellationToken.None));

        Assert.All(begun, b => Assert.True(b.Ok, b.Message));
        Assert.Equal(begun[0].Session!.Id, begun[1].Session!.Id);
        Assert.Single(begun, b => b.Message.StartsWith("resuming the restore started by", StringComparison.Ordinal));
        await using (var connection = new NpgsqlConnection(replicas.ConnectionString))
        {
            Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM restore_sessions WHERE cluster = 'up'"));
        }

        var runnerB = replicas.B.Services.GetRequiredService<BackupRunner>();
        Assert.Null(await runnerB.SuspendedBecauseAsync("up", CancellationToken.None));

        // A goes past its safety snapshot (said to the store: the test cluster has no members to snapshot), having
        // staged the snapshot on its own disk.
        var store = replicas.A.Services.GetRequiredService<RestoreSessionStore>();
        var atStop = begun[0].Session! with
        {
            Step = RestoreStep.StopMembers,
            SnapshotTarget = RestoreStaging.UploadTarget,
            SnapshotFile = "up-20260101T000000Z.db",
            StagedPath = Path.Combine(replicas.A.DataDir, "restore", "gone", "up-20260101T000000Z.db"),
            StagedOn = "replica-a",
        };
        await store.SaveAsync(atStop, DateTimeOffset.UtcNow, CancellationToken.None);

        using var api = new HttpClient { BaseAddress = replicas.B.Address };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);
        var backup = await api.PostAsync("/api/clusters/up/backups", null);
        Assert.Equal(HttpStatusCode.Conflict, backup.StatusCode);
        Assert.Contains("a restore is in progress", await backup.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // B shows A's session and can carry it on, but says where the staged file is instead of failing on it.
        Assert.Equal(RestoreStep.StopMembers, (await wizardB.CurrentAsync("up", CancellationToken.None))!.Step);
        var stop = await wizardB.StopMembersAsync("up", "up", admin, CancellationToken.None);
        Assert.False(stop.Ok);
        Assert.Contains("is on the disk of the console that staged it (replica-a", stop.Message, StringComparison.Ordinal);
        Assert.Equal(RestoreStep.StopMembers, (await wizardB.CurrentAsync("up", CancellationToken.None))!.Step);

        // Abandoned on B: backups resume on A.
        Assert.True((await wizardB.AbandonAsync("up", admin, CancellationToken.None)).Ok);
        Assert.Null(await replicas.A.Services.GetRequiredService<BackupRunner>().SuspendedBecauseAsync("up", CancellationToken.None));
    }
}
