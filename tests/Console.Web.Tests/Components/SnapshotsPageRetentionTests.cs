using Bunit;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Storage;
using Console.Web.Components.Pages.Snapshots;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Web.Tests.Components;

/// <summary>
/// The Snapshots page says why retention keeps each copy and which ones the next prune removes, from the same plan the
/// retention pass makes: snapshots written through the real local store (with manifests), one protected in the real
/// ledger; the cluster keeps the newest 1, and its local target 2 daily on top (a per-target override).
/// </summary>
public sealed class SnapshotsPageRetentionTests() : ConsolePageContext(Settings)
{
    private static readonly Dictionary<string, string?> Settings = new(HomePageTests.Cluster)
    {
        ["Console:Clusters:0:Backup:Retention:Count"] = "1",
        ["Console:Clusters:0:Backup:Retention:Targets:local:Daily"] = "2",
    };

    private static readonly ClusterName Prod = ClusterName.Parse("prod");

    private async Task<string> WriteAsync(string utc)
    {
        var name = SnapshotName.For(Prod, DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture));
        var writer = await Services.GetRequiredService<LocalSnapshotStore>().BeginWriteAsync(name, CancellationToken.None);
        await using (writer)
        {
            await writer.WriteAsync(new byte[64], CancellationToken.None);
            await writer.CompleteAsync(new SnapshotManifest { Cluster = "prod", FileName = name.FileName, SizeBytes = 64, Sha256 = "00", Trigger = "Scheduled" }, CancellationToken.None);
        }

        return name.FileName;
    }

    private static string Text(IRenderedComponent<Snapshots> page, string file, string testId) =>
        page.Find($"[data-testid=snapshot-row][data-file='{file}'] [data-testid=snapshot-copy][data-target=local] [data-testid={testId}]").TextContent.Trim();

    [Fact]
    public async Task Each_copy_says_why_it_is_kept_and_the_next_prune_is_marked_without_deleting_anything()
    {
        var newest = await WriteAsync("2026-11-30T14:00:00Z");
        var sameDay = await WriteAsync("2026-11-30T09:00:00Z");
        var dayBefore = await WriteAsync("2026-11-29T23:00:00Z");
        var @protected = await WriteAsync("2026-11-28T12:00:00Z");
        var old = await WriteAsync("2026-11-27T12:00:00Z");
        await Services.GetRequiredService<SnapshotLedger>().ProtectAsync(@protected, "prod", "test", DateTimeOffset.UtcNow, null, CancellationToken.None);

        var page = RenderPage<Snapshots>();
        await page.WaitForAssertionAsync(() => Assert.Equal(5, page.FindAll("[data-testid=snapshot-row]").Count), TimeSpan.FromSeconds(60));

        Assert.Equal("kept: newest · one of the newest 1 · daily 2026-11-30", Text(page, newest, "kept-because"));
        Assert.Equal("kept: daily 2026-11-29", Text(page, dayBefore, "kept-because"));
        Assert.Equal("kept: protected", Text(page, @protected, "kept-because"));
        Assert.Equal("next prune removes it: beyond the newest 1; in none of 2 daily", Text(page, sameDay, "prune-next"));
        Assert.Equal("next prune removes it: beyond the newest 1; in none of 2 daily", Text(page, old, "prune-next"));
        Assert.Equal(2, page.FindAll("[data-testid=prune-next]").Count);

        // A preview: every file is still there.
        var listed = await Services.GetRequiredService<LocalSnapshotStore>().ListAsync(Prod, withManifests: false, CancellationToken.None);
        Assert.Equal(5, listed.Count);
    }
}
