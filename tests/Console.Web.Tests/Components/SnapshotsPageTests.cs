using Bunit;
using Console.Web.Components.Pages.Snapshots;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Components;

public sealed class SnapshotsPageEmptyTests() : ConsolePageContext(HomePageTests.Cluster)
{
    [Fact]
    public async Task No_snapshots_says_so_and_shows_no_table()
    {
        var page = RenderPage<Snapshots>();

        Assert.Contains("No snapshots yet", (await page.WaitForElementAsync("[data-testid=no-snapshots]")).TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=snapshots]"));
        Assert.Empty(page.FindAll("[data-testid=snapshots-error]"));
    }
}

/// <summary>An S3 target whose endpoint refuses connections: listing the stores fails.</summary>
public sealed class SnapshotsPageErrorTests() : ConsolePageContext(Unreachable())
{
    private static Dictionary<string, string?> Unreachable() => new(HomePageTests.Cluster)
    {
        ["Console:Clusters:0:Backup:Targets:0"] = "s3",
        ["Console:Storage:S3:Bucket"] = "backups",
        ["Console:Storage:S3:Endpoint"] = $"http://127.0.0.1:{Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0]}",
        ["Console:Storage:S3:Region"] = "us-east-1",
        ["Console:Storage:S3:AccessKeyId"] = "test",
        ["Console:Storage:S3:SecretAccessKey"] = "test",
        ["Console:Storage:S3:ForcePathStyle"] = "true",
    };

    [Fact]
    public async Task A_store_that_cannot_be_listed_is_an_error_in_words_not_an_empty_list()
    {
        var page = RenderPage<Snapshots>();

        await page.WaitForAssertionAsync(() => Assert.Contains("Listing the stores failed", page.Find("[data-testid=snapshots-error]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.Empty(page.FindAll("[data-testid=no-snapshots]"));
    }
}
