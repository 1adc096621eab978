using Console.Domain.Configuration;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Sandbox;

public sealed class SandboxClusterTests : IDisposable
{
    private readonly TestDirectory _data = new("sandbox");
    private readonly EtcdClusterClientFactory _clients;

    public SandboxClusterTests()
    {
        _clients = new EtcdClusterClientFactory(Settings());
    }

    private IOptions<ConsoleSettings> Settings(int members = 3, string binary = "etcd", int seed = 120) =>
        Options.Create(new ConsoleSettings { DataDir = _data.Path, Sandbox = new() { Enabled = true, Members = members, EtcdBinary = binary, SeedKeys = seed } });

    private SandboxCluster Sandbox(ClusterCatalog catalog, IOptions<ConsoleSettings>? settings = null) =>
        new(settings ?? Settings(), catalog, _clients, NullLogger<SandboxCluster>.Instance);

    private ClusterCatalog Catalog() => new(Settings());

    [Fact]
    public async Task Starts_members_with_a_leader_registers_the_cluster_as_managed_and_seeds_sample_keys()
    {
        var catalog = Catalog();
        await using var sandbox = Sandbox(catalog);

        await sandbox.StartAsync(CancellationToken.None);

        var spec = Assert.Single(catalog.All);
        Assert.Equal("sandbox", spec.Name.Value);
        Assert.True(spec.IsSandbox);
        Assert.Equal(3, spec.Endpoints.Count);
        Assert.All(spec.Members, m => Assert.Equal(Console.Domain.Clusters.MemberControl.Managed, m.Control));
        Assert.All(spec.Endpoints, e => Assert.Equal("127.0.0.1", e.Host));
        Assert.All(spec.Members, m => Assert.StartsWith(Path.Combine(_data.Path, "sandbox"), m.DataDir, StringComparison.Ordinal));
        var client = _clients.For(spec);
        Assert.Equal(120, await client.CountKeysAsync(spec.Endpoints[0], "/registry/", CancellationToken.None));
        var statuses = await Task.WhenAll(spec.Endpoints.Select(e => client.StatusAsync(e, CancellationToken.None)));
        Assert.Single(statuses.Select(s => s.Leader).Distinct());

        var members = sandbox.Members.ToList();
        await sandbox.StopAsync(CancellationToken.None);

        Assert.Equal(3, members.Count);
        Assert.All(members, m => Assert.True(m.HasExited));
    }

    [Fact]
    public async Task A_restart_reuses_the_same_ports_and_data_without_seeding_again()
    {
        var first = Catalog();
        var pids = new List<int>();
        await using (var sandbox = Sandbox(first))
        {
            await sandbox.StartAsync(CancellationToken.None);
            pids.AddRange(sandbox.Members.Select(m => m.Pid));
            var spec = first.All[0];
            await _clients.For(spec).PutAsync(spec.Endpoints[0], "/written/before-restart", "kept", CancellationToken.None);
            await sandbox.StopAsync(CancellationToken.None);
        }

        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"etcd pid {pid} still running after stop"));

        var second = Catalog();
        await using var again = Sandbox(second);
        await again.StartAsync(CancellationToken.None);

        Assert.Equal(first.All[0].Endpoints, second.All[0].Endpoints);
        var restarted = second.All[0];
        var client = _clients.For(restarted);
        Assert.Equal("kept", await client.GetAsync(restarted.Endpoints[1], "/written/before-restart", CancellationToken.None));
        Assert.Equal(120, await client.CountKeysAsync(restarted.Endpoints[0], "/registry/", CancellationToken.None));
        await again.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Members_orphaned_by_a_killed_console_are_stopped_at_the_next_start()
    {
        var crashed = Sandbox(Catalog(), Settings(members: 1));
        await crashed.StartAsync(CancellationToken.None);
        var orphan = crashed.Members[0].Pid;

        // The console "dies" without stopping its members; the next start must find and stop them.
        await using var next = Sandbox(Catalog(), Settings(members: 1));
        await next.StartAsync(CancellationToken.None);

        Assert.False(Directory.Exists($"/proc/{orphan}") && !File.ReadAllText($"/proc/{orphan}/stat").Contains(") Z ", StringComparison.Ordinal), "the orphaned member is still running");
        Assert.NotEqual(orphan, next.Members[0].Pid);
        await next.StopAsync(CancellationToken.None);
        await crashed.DisposeAsync();
    }

    [Fact]
    public async Task A_missing_etcd_binary_is_a_clear_error_that_names_the_install_command()
    {
        await using var sandbox = Sandbox(Catalog(), Settings(binary: "/nonexistent/bin/etcd"));

        var error = await Assert.ThrowsAsync<SandboxException>(() => sandbox.StartAsync(CancellationToken.None));

        Assert.Contains("/nonexistent/bin/etcd", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install etcd-server", error.Message, StringComparison.Ordinal);
        Assert.Contains("Console:Sandbox:Enabled=false", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _clients.Dispose();
        _data.Dispose();
    }
}
