using Console.Domain.Backups;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>Two replicas on one PostgreSQL database and one shared snapshot directory: one watches, the other takes over when it stops.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CaptureReplicaTests(PostgresServer postgres)
{
    [Fact]
    public async Task Only_one_replica_watches_and_the_other_takes_over_from_the_durable_revision_when_it_stops()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using var shared = new TestDirectory("capture-shared-snapshots");
        var connectionString = await postgres.CreateDatabaseAsync();
        Dictionary<string, string?> Settings(string replica)
        {
            var settings = TestTokens.Settings().Concat(CaptureOracle.Settings(etcd)).ToDictionary(kv => kv.Key, kv => kv.Value);
            settings["Console:Database:Provider"] = "postgres";
            settings["Console:Database:ConnectionString"] = connectionString;
            settings["Console:Storage:Local:Dir"] = shared.Path;
            settings["Console:Replica:Name"] = replica;
            return settings;
        }

        using var writer = new EtcdWriter(etcd.Endpoints[0]);
        var a = ConsoleApp.Start(Settings("replica-a"));
        var b = ConsoleApp.Start(Settings("replica-b"));
        ConsoleApp? stopped = null;
        try
        {
            var baseRevision = await CaptureOracle.BaseRevisionAsync(a.Services);
            var first = await writer.MixedHistoryAsync("/r1", rounds: 3);
            var state = await CaptureOracle.DurableAtLeastAsync(a.Services, first);
            var ledger = a.Services.GetRequiredService<DeltaLedger>();

            // One watcher: segments follow each other exactly (two watchers would write overlapping ones), one base snapshot.
            var segments = await ledger.SegmentsAsync(CaptureOracle.Cluster, CancellationToken.None);
            Assert.All(segments.Zip(segments.Skip(1)), pair => Assert.Equal(pair.First.LastRevision + 1, pair.Second.FirstRevision));
            var records = await a.Services.GetRequiredService<BackupRecordStore>().QueryAsync(new BackupQuery(CaptureOracle.Cluster), CancellationToken.None);
            Assert.Single(records.Items, r => r.Trigger == BackupTrigger.Continuous);

            var watching = state!.Watcher!.StartsWith("replica-a", StringComparison.Ordinal) ? a : b;
            var other = watching == a ? b : a;
            var otherName = watching == a ? "replica-b" : "replica-a";
            stopped = watching;
            await watching.DisposeAsync();

            var head = await writer.MixedHistoryAsync("/r2", rounds: 3);
            var taken = await CaptureOracle.DurableAtLeastAsync(other.Services, head, TimeSpan.FromSeconds(120));
            Assert.StartsWith(otherName, taken!.Watcher, StringComparison.Ordinal);
            var all = await CaptureOracle.ReadAllAsync(other.Services, baseRevision, head);
            var seen = CaptureOracle.ReplayAndCompare(etcd, all, baseRevision, head);
            Assert.Equal(Enumerable.Range((int)baseRevision + 1, (int)(head - baseRevision)).Select(r => (long)r), seen);
        }
        finally
        {
            foreach (var app in new[] { a, b }.Where(x => x != stopped))
            {
                await app.DisposeAsync();
            }
        }
    }
}
