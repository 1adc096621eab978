using Bunit;
using Console.Domain.Access;
using Console.Web.Components.Pages.Audit;

namespace Console.Web.Tests.Components;

public sealed class AuditPageTests : ShellPageContext
{
    private Task<long> RecordAsync(string actor, string action, AuditOutcome outcome = AuditOutcome.Succeeded) =>
        Audit.RecordAsync(new Actor(actor, Role.Operator, ActorKind.User), action, "prod", null, outcome, null, CancellationToken.None);

    private static IReadOnlyList<string> Actors(IRenderedComponent<AuditPage> page) =>
        [.. page.FindAll("[data-testid=audit-actor]").Select(a => a.TextContent)];

    [Fact]
    public void An_empty_log_says_nothing_is_recorded_yet()
    {
        var page = Render<AuditPage>();

        page.WaitForAssertion(() => Assert.Equal("Nothing recorded yet.", page.Find("[data-testid=audit-empty]").TextContent.Trim()));
        Assert.Equal("empty", page.Find("[data-testid=audit-entries]").GetAttribute("data-state"));
    }

    [Fact]
    public async Task Entries_show_newest_first_with_their_outcome_as_a_state()
    {
        await RecordAsync("bob", AuditActions.BackupNow);
        await RecordAsync("eve", AuditActions.BackupNow, AuditOutcome.Refused);

        var page = Render<AuditPage>();

        page.WaitForAssertion(() => Assert.Equal(["eve", "bob"], Actors(page)));
        Assert.Equal(["Refused", "Succeeded"], page.FindAll("[data-testid=audit-outcome]").Select(o => o.GetAttribute("data-state")));
        Assert.Equal("entries", page.Find("[data-testid=audit-entries]").GetAttribute("data-state"));
    }

    [Fact]
    public async Task A_filter_narrows_the_entries_and_one_matching_nothing_says_so()
    {
        await RecordAsync("bob", AuditActions.BackupNow);
        await RecordAsync("eve", AuditActions.BackupNow, AuditOutcome.Refused);
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.Equal(2, Actors(page).Count));
        var filters = page.FindComponent<AuditFilters>();

        await page.InvokeAsync(() => filters.Instance.FilterChanged.InvokeAsync(new AuditFilter(Outcome: AuditOutcome.Refused)));
        page.WaitForAssertion(() => Assert.Equal(["eve"], Actors(page)));

        await page.InvokeAsync(() => filters.Instance.FilterChanged.InvokeAsync(new AuditFilter(Actor: "nobody")));
        page.WaitForAssertion(() => Assert.Equal("Nothing matches these filters.", page.Find("[data-testid=audit-empty]").TextContent.Trim()));
    }

    [Fact]
    public async Task A_new_entry_appears_while_the_page_is_open()
    {
        var page = Render<AuditPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=audit-empty]")));

        await RecordAsync("bob", AuditActions.BackupNow);

        page.WaitForAssertion(() => Assert.Equal(["bob"], Actors(page)));
    }

    [Fact]
    public void Every_filter_has_a_label()
    {
        var page = Render<AuditPage>();

        var labels = page.FindAll("[role=search] label").Select(l => l.TextContent.Trim()).ToList();
        Assert.Equal(["Who", "Action", "Cluster", "Outcome", "From (UTC)", "To (UTC)"], labels);
    }
}
