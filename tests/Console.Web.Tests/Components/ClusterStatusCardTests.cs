using Console.Domain.Clusters;
using Console.Web.Components.Pages.Status;
using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using MudBlazor.Services;

namespace Console.Web.Tests.Components;

public sealed class ClusterStatusCardTests : BunitContext, IAsyncLifetime
{
    private static readonly ClusterName Name = ClusterName.Parse("prod");
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    // bunit's own context, as the app runs it: interactive server rendering, MudBlazor's services, and JS calls
    // answered loosely (behaviour that lives in the browser is tested with Playwright).
    public ClusterStatusCardTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;

        // After the services: setting it builds the renderer, which closes the service collection.
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    [Fact]
    public void Healthy_cluster_shows_its_figures_and_every_member_with_its_role()
    {
        EtcdMember[] members = [new(1, "m1", ["http://10.0.0.1:2380"], ["http://10.0.0.1:2379"], false), new(2, "m2", ["http://10.0.0.2:2380"], ["http://10.0.0.2:2379"], false), new(3, "m3", ["http://10.0.0.3:2380"], ["http://10.0.0.3:2379"], false)];
        var statuses = members.ToDictionary(m => m.Id, m => new EtcdMemberStatus(m.Id, 7, "3.4.23", 3 * 1024 * 1024, 1024, 2, 900 + m.Id, 3, 1234, [], false));
        var health = ClusterHealth.Compose(Name, Now, members, statuses, new Dictionary<ulong, string>(), [], 300, []);

        var card = Render<ClusterStatusCard>(p => p.Add(c => c.Health, health));

        Assert.Equal(("Healthy", "Healthy"), State(card));
        Assert.Equal("m2", card.Find("[data-testid=leader]").TextContent.Trim());
        Assert.Equal("3 / 3", card.Find("[data-testid=members-up]").TextContent.Trim());
        Assert.Equal("300", card.Find("[data-testid=key-count]").TextContent.Trim());
        Assert.Contains("3.0 MiB", card.Markup, StringComparison.Ordinal);
        Assert.Contains("1,234", card.Markup, StringComparison.Ordinal);
        var roles = card.FindAll("[data-testid=member-role]").Select(e => (e.GetAttribute("data-state"), e.TextContent.Trim())).ToList();
        Assert.Equal([("follower", "follower"), ("leader", "leader"), ("follower", "follower")], roles);
        Assert.Contains("http://10.0.0.3:2379", card.Markup, StringComparison.Ordinal);
        Assert.Empty(card.FindAll("[data-testid=cluster-problems]"));
    }

    [Fact]
    public void Unreachable_cluster_shows_why_in_words_and_no_members_table()
    {
        var health = ClusterHealth.Unreachable(Name, Now, ["no endpoint answered: cannot reach 10.0.0.1:2379: connection refused (is etcd running and listening on this address?)"]);

        var card = Render<ClusterStatusCard>(p => p.Add(c => c.Health, health));

        Assert.Equal(("Unreachable", "Unreachable"), State(card));
        Assert.Equal("Unreachable", card.Find("[data-testid=cluster-card]").GetAttribute("data-state"));
        Assert.Contains("cannot reach 10.0.0.1:2379: connection refused", card.Find("[data-testid=cluster-problems]").TextContent, StringComparison.Ordinal);
        Assert.Equal("–", card.Find("[data-testid=leader]").TextContent.Trim());
        Assert.Equal("–", card.Find("[data-testid=members-up]").TextContent.Trim());
        Assert.Empty(card.FindAll("[data-testid=members]"));
    }

    [Fact]
    public void A_cluster_not_polled_yet_says_it_is_asking()
    {
        var card = Render<ClusterStatusCard>(p => p
            .Add(c => c.Health, ClusterHealth.NotPolled(Name))
            .Add(c => c.Endpoints, [new Uri("https://10.0.0.9:2379")]));

        Assert.Equal(("Unknown", "Checking"), State(card));
        Assert.Contains("Asking 10.0.0.9:2379", card.Markup, StringComparison.Ordinal);
    }

    private static (string? State, string Text) State(IRenderedComponent<ClusterStatusCard> card)
    {
        var badge = card.Find("[data-testid=cluster-state]");
        return (badge.GetAttribute("data-state"), badge.TextContent.Trim());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // Some services are IAsyncDisposable only, which bunit's synchronous Dispose (xunit v2's) cannot dispose.
    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
