using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Domain.Access;
using Console.Domain.Backups;
using Console.Infrastructure.Access;
using Console.Infrastructure.Continuous;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Storage;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>
/// The export endpoint and the builder behind it, through the real web host: the base is a full snapshot the console
/// itself took for continuous backup (fetched from its local target), the deltas come from its real capture, stored
/// beside it.
/// </summary>
public sealed class PointInTimeExportTests
{
    private const string AdminToken = "admin-token-for-point-in-time-tests";

    private static HttpClient Client(ConsoleApp app, string token)
    {
        var client = new HttpClient { BaseAddress = app.Address, Timeout = TimeSpan.FromMinutes(3) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    [Fact]
    public async Task An_admin_exports_a_verified_snapshot_of_a_revision_or_a_time_and_everyone_else_or_anything_outside_the_window_is_refused()
    {
        await using var etcd = await TestEtcdCluster.StartAsync(name: "pitr-export");
        using var client = new EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(30));
        var endpoint = etcd.Endpoints[0];
        await client.PutAsync(endpoint, "/before", "0", CancellationToken.None);
        var settings = TestTokens.Settings().Concat(CaptureOracle.Settings(etcd)).ToDictionary();
        settings["Console:Auth:ApiTokens:2:Name"] = "admin";
        settings["Console:Auth:ApiTokens:2:Sha256"] = TestTokens.Sha256(AdminToken);
        settings["Console:Auth:ApiTokens:2:Role"] = "Admin";
        await using var app = ConsoleApp.Start(settings);

        // The console's continuous backup takes its full snapshot, then captures the writes after it: A, a noted
        // moment once A is durable, then B.
        var baseRevision = await CaptureOracle.BaseRevisionAsync(app.Services);
        for (var i = 0; i < 120; i++)
        {
            await client.PutAsync(endpoint, $"/a/{i % 30}", i.ToString(CultureInfo.InvariantCulture), CancellationToken.None);
        }

        var afterA = await client.PutAsync(endpoint, "/A", "written before the moment", CancellationToken.None);
        await CaptureOracle.DurableAtLeastAsync(app.Services, afterA);
        var moment = DateTimeOffset.UtcNow;
        var last = await client.PutAsync(endpoint, "/B", "written after the moment", CancellationToken.None);
        await CaptureOracle.DurableAtLeastAsync(app.Services, last);
        using var operatorClient = Client(app, TestTokens.Operator);

        using var admin = Client(app, AdminToken);
        using var files = new TestDirectory("pitr-export-files");

        // By revision: the streamed bytes match the sha256 header and restore to exactly the source at that revision.
        var middle = baseRevision + ((last - baseRevision) / 2);
        using (var response = await admin.GetAsync($"/api/clusters/cap/point-in-time?revision={middle}"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"cap_rev{middle}.db", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            var path = files.Combine("by-revision.db");
            await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(response.Headers.GetValues("X-Snapshot-Sha256").Single(), await SnapshotVerifier.VerifyFileAsync(path, CancellationToken.None));
            await using var restored = await ReferenceTools.RestoreAndStartAsync(path, files.Combine("check-revision"));
            var expected = ReferenceTools.Dump(endpoint, middle);
            var actual = ReferenceTools.Dump(restored.Layout.ClientUrl);
            Assert.Equal(middle, actual.Revision);
            Assert.Equal(expected.Kvs, actual.Kvs);
        }

        // By time: the newest revision received at or before the moment: A is there, B is not.
        using (var response = await admin.GetAsync($"/api/clusters/cap/point-in-time?time={Uri.EscapeDataString(moment.ToString("O", CultureInfo.InvariantCulture))}"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var path = files.Combine("by-time.db");
            await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(afterA.ToString(CultureInfo.InvariantCulture), response.Headers.GetValues("X-Snapshot-Revision").Single());
            await using var restored = await ReferenceTools.RestoreAndStartAsync(path, files.Combine("check-time"));
            Assert.Contains("written before the moment", ReferenceTools.Etcdctl(restored.Layout.ClientUrl, "get", "/A"), StringComparison.Ordinal);
            Assert.Equal(string.Empty, ReferenceTools.Etcdctl(restored.Layout.ClientUrl, "get", "/B").Trim());
        }

        // Nothing is left behind: the temp build is deleted once streamed.
        await Eventually.ValueAsync(() => Task.FromResult(Directory.GetFileSystemEntries(Path.Combine(app.DataDir, "point-in-time"))), e => e.Length == 0, TimeSpan.FromSeconds(10));

        // Refusals: bad parameters and targets outside the window (400), an unknown cluster (404), other roles.
        var outside = await admin.GetAsync($"/api/clusters/cap/point-in-time?revision={last + 100}");
        Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
        var message = (await outside.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();
        Assert.Contains($"any revision from {baseRevision} to {last}, any second from", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/clusters/cap/point-in-time")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/clusters/cap/point-in-time?revision=abc")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/clusters/cap/point-in-time?time=yesterday")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync($"/api/clusters/cap/point-in-time?revision={middle}&time=2026-01-01T00:00:00Z")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/clusters/nope/point-in-time?revision={middle}")).StatusCode);
        using var anonymous = new HttpClient { BaseAddress = app.Address };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/clusters/cap/point-in-time?revision={middle}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.GetAsync($"/api/clusters/cap/point-in-time?revision={middle}")).StatusCode);
        using var viewer = Client(app, TestTokens.Viewer);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync($"/api/clusters/cap/point-in-time?revision={middle}")).StatusCode);

        var audit = await app.Services.GetRequiredService<AuditLog>().QueryAsync(new AuditQuery(Action: AuditActions.PointInTimeExport), CancellationToken.None);
        Assert.Equal(2, audit.Items.Count(e => e.Outcome == AuditOutcome.Succeeded));
        Assert.Contains(audit.Items, e => e.Outcome == AuditOutcome.Refused && e.Actor == "token:ci");

        // A damaged segment (a byte flipped in a stored file, as bit rot would): the export through it is refused
        // naming it and nothing is written; the window then ends before it with the reason, and the build of any
        // target beyond it is refused too.
        var local = app.Services.GetRequiredService<LocalSnapshotStore>();
        var stored = await local.ListSegmentsAsync(CaptureOracle.Name, CancellationToken.None);
        var damaged = stored.Single(s => s.Name.LastRevision == afterA); // B was written once A was durable: A ends its segment
        var bytes = await File.ReadAllBytesAsync(damaged.Location);
        bytes[bytes.Length / 2] ^= 0x5a;
        await File.WriteAllBytesAsync(damaged.Location, bytes);

        var refusedExport = await admin.GetAsync($"/api/clusters/cap/point-in-time?revision={last}");
        Assert.Equal(HttpStatusCode.BadRequest, refusedExport.StatusCode);
        var refusal = (await refusedExport.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
        Assert.Contains(damaged.Name.FileName, refusal, StringComparison.Ordinal);
        Assert.Contains("refused", refusal, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(app.DataDir, "point-in-time")));

        var window = await app.Services.GetRequiredService<IDeltaHistory>().WindowAsync(CaptureOracle.Name, CancellationToken.None);
        Assert.Equal(Math.Max(baseRevision, damaged.Name.FirstRevision - 1), Assert.Single(window.Spans).ToRevision);
        var recorded = Assert.Single(window.Breaks);
        Assert.Equal(damaged.Name.FirstRevision - 1, recorded.AfterRevision);
        Assert.Contains(damaged.Name.FileName, recorded.Reason, StringComparison.Ordinal);
        var output = files.Combine("damaged.db");
        var builder = app.Services.GetRequiredService<IPointInTimeBuilder>();
        await Assert.ThrowsAsync<PointInTimeException>(() => builder.BuildAsync(CaptureOracle.Name, PointInTimeTarget.AtRevision(last), output, null, null, CancellationToken.None));
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".part"));
    }
}
