using Bunit;
using Console.Domain.Access;
using Console.Web.Components.Pages.Settings;

namespace Console.Web.Tests.Components;

public sealed class SettingsPageTests() : ConsolePageContext(HomePageTests.Cluster)
{
    private static string FieldState(IRenderedComponent<Settings> page, string field) =>
        page.Find($"[data-testid=field-{field}]").GetAttribute("data-state")!;

    [Fact]
    public async Task A_wrong_interval_is_explained_beside_its_field_when_left_and_again_on_save_and_nothing_changes()
    {
        var page = RenderPage<Settings>();
        await page.WaitForElementAsync("[data-testid=effective-schedule]");
        Assert.Equal("every 6h", page.Find("[data-testid=effective-schedule]").TextContent.Trim());
        Assert.Equal("Ok", FieldState(page, "interval"));

        await page.Find("[data-testid=field-interval] input").ChangeAsync("5s");

        Assert.Equal("Error", FieldState(page, "interval"));
        Assert.Contains("'5s' is shorter than one minute; the shortest interval is 1m.", page.Find("[data-testid=field-interval]").TextContent, StringComparison.Ordinal);
        Assert.Equal("Ok", FieldState(page, "cron"));
        Assert.Empty(page.FindAll("[data-testid=settings-errors]"));

        await page.Find("form").SubmitAsync();

        await page.WaitForAssertionAsync(() => Assert.Contains("Nothing was changed", page.Find("[data-testid=settings-errors]").TextContent, StringComparison.Ordinal));
        Assert.Equal("Error", FieldState(page, "interval"));
        Assert.Equal("every 6h", page.Find("[data-testid=effective-schedule]").TextContent.Trim());
    }

    [Fact]
    public async Task Interval_and_cron_together_mark_both_fields_and_a_negative_count_marks_its_own()
    {
        var page = RenderPage<Settings>();
        await page.WaitForElementAsync("[data-testid=effective-schedule]");

        await page.Find("[data-testid=field-cron] input").ChangeAsync("0 */6 * * *");
        await page.Find("[data-testid=field-retention-count] input").ChangeAsync("-1");

        Assert.Equal(("Error", "Error", "Error", "Ok"), (FieldState(page, "interval"), FieldState(page, "cron"), FieldState(page, "retention-count"), FieldState(page, "retention-max-age")));
        Assert.Contains("set either Interval or Cron, not both", page.Find("[data-testid=field-cron]").TextContent, StringComparison.Ordinal);
        Assert.Contains("must not be negative", page.Find("[data-testid=field-retention-count]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_good_edit_is_saved_and_the_effective_schedule_follows()
    {
        var page = RenderPage<Settings>();
        await page.WaitForElementAsync("[data-testid=effective-schedule]");

        await page.Find("[data-testid=field-interval] input").ChangeAsync("3h");
        await page.Find("form").SubmitAsync();

        await page.WaitForAssertionAsync(() => Assert.Equal("every 3h", page.Find("[data-testid=effective-schedule]").TextContent.Trim()), TimeSpan.FromSeconds(10));
        Assert.Empty(page.FindAll("[data-testid=settings-errors]"));
        Assert.Contains(Snackbars(), s => s.Contains("Saved backup settings of prod", StringComparison.Ordinal));
    }
}

public sealed class SettingsPageForViewersTests() : ConsolePageContext(HomePageTests.Cluster, Role.Viewer)
{
    [Fact]
    public async Task Viewers_see_the_configuration_without_the_editor()
    {
        var page = RenderPage<Settings>();
        await page.WaitForElementAsync("[data-testid=effective-schedule]");

        Assert.Equal("every 6h", page.Find("[data-testid=effective-schedule]").TextContent.Trim());
        Assert.Empty(page.FindAll("form"));
    }
}
