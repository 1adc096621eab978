using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Infrastructure.Sandbox;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.EndToEnd;

public sealed class ConsoleProcessTests
{
    [Fact]
    public async Task Invalid_configuration_stops_startup_and_lists_every_problem()
    {
        using var console = ConsoleProcess.Start(new Dictionary<string, string>
        {
            ["Console__Clusters__0__Name"] = "Prod Cluster",
            ["Console__Clusters__0__Endpoints__0"] = "10.0.0.1:2379",
            ["Console__Clusters__1__Name"] = "b",
            ["Console__Clusters__1__Tls__CaFile"] = "/nonexistent/ca.pem",
            ["Console__Clusters__1__Endpoints__0"] = "https://10.0.0.2:2379",
            ["Console__Clusters__1__Auth__User"] = "root",
            ["Console__Clusters__1__Auth__Password"] = "never-print-this",
            ["Console__Clusters__2__Name"] = "b",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });

        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        var error = console.Error;
        Assert.Contains("The configuration is invalid (5 problem(s))", error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:0:Name: cluster name 'Prod Cluster'", error, StringComparison.Ordinal);
        Assert.Contains("'10.0.0.1:2379' is not an absolute URL", error, StringComparison.Ordinal);
        Assert.Contains("the file '/nonexistent/ca.pem' does not exist", error, StringComparison.Ordinal);
        Assert.Contains("the name 'b' is used by more than one cluster", error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:2 ('b'):Endpoints: at least one client URL is required", error, StringComparison.Ordinal);
        Assert.DoesNotContain("never-print-this", error + console.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_etcd_binary_stops_startup_with_the_install_command()
    {
        using var data = new TestDirectory("no-etcd");
        using var console = ConsoleProcess.Start(new Dictionary<string, string>
        {
            ["Console__DataDir"] = data.Path,
            ["Console__Sandbox__Enabled"] = "true",
            ["Console__Sandbox__EtcdBinary"] = "/nonexistent/etcd",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });

        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(3, exit);
        Assert.Contains("apt-get install etcd-server", console.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_c_stops_the_console_and_every_sandbox_member()
    {
        using var data = new TestDirectory("sigint");
        var port = FreePorts.Pick(1)[0];
        using var console = ConsoleProcess.Start(new Dictionary<string, string>
        {
            ["Console__DataDir"] = data.Path,
            ["Console__Sandbox__Enabled"] = "true",
            ["Console__Sandbox__SeedKeys"] = "10",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
        });
        await console.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(90));
        var pids = File.ReadAllLines(Path.Combine(data.Path, "sandbox", "members.pid")).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, pids.Count);
        Assert.All(pids, pid => Assert.True(Directory.Exists($"/proc/{pid}")));
        using (var http = new HttpClient())
        {
            Assert.Equal("{\"status\":\"ok\"}", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/healthz")));
        }

        console.Interrupt();
        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, exit);
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"etcd member pid {pid} outlived the console"));
    }

    [Fact]
    public async Task A_console_killed_mid_snapshot_records_the_run_as_interrupted_and_leaves_no_partial_file()
    {
        await using var etcd = await TestEtcdCluster.StartAsync();
        using (var client = new Console.Infrastructure.Etcd.EtcdClusterClient(etcd.Spec(), TimeSpan.FromSeconds(10)))
        {
            var value = new string('x', 1024 * 1024);
            await Parallel.ForAsync(0, 48, async (i, ct) => await client.PutAsync(etcd.Endpoints[0], $"/fill/{i}", value, ct));
        }

        using var data = new TestDirectory("killed");
        var port = FreePorts.Pick(1)[0];
        var environment = TestTokens.Settings("__").Concat(TestTokens.Cluster(etcd, separator: "__"))
            .ToDictionary(kv => kv.Key, kv => kv.Value!);
        environment["Console__DataDir"] = data.Path;
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        var snapshots = Path.Combine(data.Path, "snapshots");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Operator);

        long id;
        using (var console = ConsoleProcess.Start(environment))
        {
            await console.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(90));
            var response = await http.PostAsync("/api/clusters/test/backups", null);
            id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

            // Freeze etcd once the partial file has bytes in it, so the console is certainly mid-snapshot when killed.
            await Eventually.ValueAsync(
                () => Task.FromResult(Directory.Exists(snapshots) ? Directory.GetFiles(snapshots, "*.part").Select(f => new FileInfo(f).Length).FirstOrDefault() : 0),
                length => length > 0,
                TimeSpan.FromSeconds(30));
            etcd.Members[0].Pause();
            console.Kill();
        }

        etcd.Members[0].Resume();
        Assert.NotEmpty(Directory.GetFiles(snapshots, "*.part"));
        Assert.Empty(Directory.GetFiles(snapshots, "*.db"));

        using var restarted = ConsoleProcess.Start(environment);
        await restarted.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(90));
        var record = await http.GetFromJsonAsync<JsonElement>($"/api/backups/{id}");

        Assert.Equal("Interrupted", record.GetProperty("status").GetString());
        Assert.Contains("console stopped", record.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(snapshots, "*.part"));
        Assert.Empty(Directory.GetFiles(snapshots, "*.db"));
    }
}
