using Console.Domain.Restore;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Restore;

/// <summary>Sessions persisted by earlier versions (member states as free text) still load, and resume where they were.</summary>
public sealed class RestoreSessionTests
{
    // As RestoreSession.ToJson wrote it before member states were an enum: Step as its number, MemberStates as text.
    private const string SavedBeforeTheEnum = """
        {"Id":7,"Cluster":"prod","Step":5,"StartedBy":"admin","StartedAt":"2026-11-21T07:40:05+00:00","SnapshotTarget":"local",
         "SnapshotFile":"prod_20261121T060000.000Z.db","StagedPath":"/data/restore/7/prod_20261121T060000.000Z.db","Sha256":"ab",
         "SizeBytes":1024,"SnapshotRevision":42,"SnapshotKeyCount":5,"Token":"prod-restore-1","PlannedAt":"2026-11-21T07:41:00+00:00",
         "ToolName":"etcdutl","ToolVersion":"3.5.12","SafetyBackupId":3,"SafetyNote":"prod_20261121T074100.000Z.db",
         "MemberStates":{"m1":"restored: restored into /var/lib/etcd-1","m2":"stopped (proven down: its client and peer URLs refuse connections)","m3":"waiting: run the restore and move commands on the host, then mark it done"},
         "MemberUrls":{"m1":["http://10.0.0.1:2379","http://10.0.0.1:2380"]},"Failure":null,"FailedAt":null,"Report":[]}
        """;

    [Fact]
    public void A_session_saved_with_text_states_loads_with_enum_states_and_the_same_rules()
    {
        var session = RestoreSession.FromJson(SavedBeforeTheEnum);

        Assert.Equal(RestoreStep.RestoreData, session.Step);
        Assert.Equal(MemberState.Restored, session.Members["m1"].State);
        Assert.Equal(MemberState.Stopped, session.Members["m2"].State);
        Assert.Equal(MemberState.AwaitingRestore, session.Members["m3"].State);
        Assert.Equal("restored: restored into /var/lib/etcd-1", session.Members["m1"].Detail);
        Assert.False(session.Procedure.NeedsRestore("m1"));
        Assert.False(session.Procedure.CanAbandon);
        Assert.True(session.Procedure.CanRollBack);
        Assert.Equal(["http://10.0.0.1:2379", "http://10.0.0.1:2380"], session.MemberUrls["m1"]);

        var again = RestoreSession.FromJson(session.ToJson());
        Assert.DoesNotContain("MemberStates", session.ToJson(), StringComparison.Ordinal);
        Assert.Equal(session.Members.ToDictionary(), again.Members.ToDictionary());
    }

    [Fact]
    public async Task An_old_session_in_the_database_resumes_at_its_step_and_is_saved_back_in_the_new_shape()
    {
        using var data = new TestDirectory("legacy-session");
        await using var app = ConsoleApp.Start(dataDir: data.Path);
        var database = app.Services.GetRequiredService<ConsoleDatabase>();
        var store = app.Services.GetRequiredService<RestoreSessionStore>();
        var created = (await store.TryCreateAsync(new RestoreSession { Cluster = "prod", StartedBy = "admin" }, DateTimeOffset.UtcNow, CancellationToken.None))!;
        var connection = await database.OpenAsync(CancellationToken.None);
        await using (connection)
        {
            var state = SavedBeforeTheEnum.Replace("\"Id\":7", $"\"Id\":{created.Id}", StringComparison.Ordinal);
            Assert.Equal(1, await connection.ExecuteAsync("UPDATE restore_sessions SET state = @state WHERE id = @id", new { state, id = created.Id }));
        }

        var active = await store.ActiveAsync("prod", CancellationToken.None);
        Assert.Equal(RestoreStep.RestoreData, active!.Step);
        Assert.Equal(MemberState.Restored, active.Members["m1"].State);
        await store.SaveAsync(active, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal(MemberState.AwaitingRestore, (await store.ActiveAsync("prod", CancellationToken.None))!.Members["m3"].State);
    }
}
