using Console.Domain.Backups;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Drills;

/// <summary>The drill ledger's SQL on both providers: each copy's newest verdict, each cluster's last drill and last pass, left-over Running drills.</summary>
public abstract class DrillLedgerTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly TestDatabase _data;

    protected DrillLedgerTests(PostgresServer? postgres)
    {
        _data = TestDatabase.Create("drills", postgres);
    }

    private DrillLedger Ledger => new(_data.Database);

    private static DrillVerdict Drill(string file, string target, string replica = "a", string cluster = "prod") => new()
    {
        BackupId = 7,
        Cluster = cluster,
        FileName = file,
        Target = target,
        StartedAt = Now,
        Replica = replica,
        RequestedBy = "alice",
    };

    [Fact]
    public async Task A_copys_newest_drill_is_its_verdict_with_every_finding_kept()
    {
        var ledger = Ledger;
        var failed = await ledger.StartAsync(Drill("prod_1.db", "local"), CancellationToken.None);
        await ledger.FinishAsync(Drill("prod_1.db", "local") with { Id = failed, Outcome = DrillOutcome.Failed, Reason = "fetching: sha256 differs", FinishedAt = Now.AddMinutes(1) }, CancellationToken.None);
        var passed = await ledger.StartAsync(Drill("prod_1.db", "local") with { StartedAt = Now.AddMinutes(2) }, CancellationToken.None);
        var verdict = Drill("prod_1.db", "local") with
        {
            Id = passed,
            StartedAt = Now.AddMinutes(2),
            Outcome = DrillOutcome.Passed,
            Reason = "footer ok",
            Revision = 42,
            KeyCount = 9,
            Canary = "ok",
            Deltas = "deltas: none",
            Rto = TimeSpan.FromMilliseconds(1500),
            FinishedAt = Now.AddMinutes(3),
        };
        await ledger.FinishAsync(verdict, CancellationToken.None);
        var running = await ledger.StartAsync(Drill("prod_1.db", "s3"), CancellationToken.None);

        var latest = await ledger.LatestByCopyAsync("prod", CancellationToken.None);
        Assert.Equal(verdict, latest[("prod_1.db", "local")]);
        Assert.Equal(DrillOutcome.Running, latest[("prod_1.db", "s3")].Outcome);
        Assert.Empty(await ledger.LatestByCopyAsync("other", CancellationToken.None));
        Assert.Equal([passed, failed], (await ledger.HistoryAsync("prod_1.db", "local", CancellationToken.None)).Select(d => d.Id));

        var byCluster = (await ledger.LatestByClusterAsync(CancellationToken.None))["prod"];
        Assert.Equal(passed, byCluster.Last!.Id); // the Running one is not "last drill"
        Assert.Equal(passed, byCluster.LastPassed!.Id);
        Assert.Equal([verdict], await ledger.LatestPassedByTargetAsync(CancellationToken.None));
        Assert.True(running > passed);
    }

    [Fact]
    public async Task Only_this_replicas_running_drills_are_failed_at_its_start()
    {
        var ledger = Ledger;
        var mine = await ledger.StartAsync(Drill("prod_1.db", "local", replica: "a"), CancellationToken.None);
        var theirs = await ledger.StartAsync(Drill("prod_1.db", "s3", replica: "b"), CancellationToken.None);

        Assert.Equal(1, await ledger.FailRunningAsync("a", "the console stopped during this drill", Now.AddMinutes(5), CancellationToken.None));

        var latest = await ledger.LatestByCopyAsync(null, CancellationToken.None);
        Assert.Equal((DrillOutcome.Failed, "the console stopped during this drill", Now.AddMinutes(5)), (latest[("prod_1.db", "local")].Outcome, latest[("prod_1.db", "local")].Reason, latest[("prod_1.db", "local")].FinishedAt));
        Assert.Equal(mine, latest[("prod_1.db", "local")].Id);
        Assert.Equal((theirs, DrillOutcome.Running), (latest[("prod_1.db", "s3")].Id, latest[("prod_1.db", "s3")].Outcome));
        Assert.Equal(1, await ledger.FailRunningAsync(null, "stopped", Now, CancellationToken.None));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    public sealed class OnSqlite() : DrillLedgerTests(null);

    [Collection(PostgresCollection.Name)]
    public sealed class OnPostgres(PostgresServer postgres) : DrillLedgerTests(postgres);
}
