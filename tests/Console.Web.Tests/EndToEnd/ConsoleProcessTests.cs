using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Console.Infrastructure.Hosting;
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

    // A value the binder cannot convert used to drop its whole cluster silently (GET /api/clusters said [])
    // or, at the top level, crash start-up with a stack trace (exit 134).
    [Theory]
    [InlineData("Console__Clusters__0__Backup__Enabled", "yes", "Console:Clusters:0:Backup:Enabled: 'yes' is not true or false")]
    [InlineData("Console__Clusters__0__Backup__Retention__Count", "seven", "Console:Clusters:0:Backup:Retention:Count: 'seven' is not a whole number")]
    [InlineData("Console__Clusters__0__Backup__Paused", "yes", "Console:Clusters:0:Backup:Paused: 'yes' is not true or false")]
    [InlineData("Console__Etcd__CallTimeout", "garbage", "Console:Etcd:CallTimeout: 'garbage' is not a duration such as 00:00:05")]
    [InlineData("Console__Sandbox__Members", "abc", "Console:Sandbox:Members: 'abc' is not a whole number")]
    [InlineData("Console__Sandbox__Enabled", "yes", "Console:Sandbox:Enabled: 'yes' is not true or false")]
    [InlineData("Console__Scheduler__StorageCheckInterval", "often", "Console:Scheduler:StorageCheckInterval: 'often' is not a duration")]
    public async Task A_value_that_does_not_parse_stops_startup_naming_the_key_and_its_form(string key, string value, string expected)
    {
        using var data = new TestDirectory("type-error");
        var environment = ValidCluster(data);
        environment[key] = value;
        using var console = ConsoleProcess.Start(environment);

        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains("The configuration is invalid (1 problem(s))", console.Error, StringComparison.Ordinal);
        Assert.Contains(expected, console.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", console.Error + console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_values_that_do_not_parse_are_listed_together_with_the_other_problems()
    {
        using var data = new TestDirectory("type-errors");
        var environment = ValidCluster(data);
        environment["Console__Clusters__0__Backup__Enabled"] = "yes";
        environment["Console__Clusters__0__Backup__Retention__Count"] = "seven";
        environment["Console__Clusters__0__Backup__Paused"] = "yes";
        environment["Console__Etcd__CallTimeout"] = "garbage";
        environment["Console__Sandbox__Members"] = "abc";
        environment["Console__Clusters__1__Name"] = "Bad Name";
        using var console = ConsoleProcess.Start(environment);

        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        var error = console.Error;
        Assert.Contains("The configuration is invalid (7 problem(s))", error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:0:Backup:Enabled: 'yes' is not true or false", error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:0:Backup:Retention:Count: 'seven' is not a whole number", error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:0:Backup:Paused: 'yes' is not true or false", error, StringComparison.Ordinal);
        Assert.Contains("Console:Etcd:CallTimeout: 'garbage' is not a duration such as 00:00:05", error, StringComparison.Ordinal);
        Assert.Contains("Console:Sandbox:Members: 'abc' is not a whole number", error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:1:Name: cluster name 'Bad Name'", error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:1:Endpoints: at least one client URL is required", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error + console.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cron_under_a_minute_or_out_of_range_stops_startup()
    {
        using var data = new TestDirectory("cron");
        var environment = ValidCluster(data);
        environment["Console__Clusters__0__Backup__Interval"] = "";
        environment["Console__Clusters__0__Backup__Cron"] = "* * * * * *";
        environment["Console__Clusters__1__Name"] = "other";
        environment["Console__Clusters__1__Endpoints__0"] = "http://127.0.0.1:2379";
        environment["Console__Clusters__1__Backup__Cron"] = "99 99 * * *";
        using var console = ConsoleProcess.Start(environment);

        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains("Console:Clusters:0 ('prod'):Backup:Cron: '* * * * * *' fires more often than once a minute", console.Error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:1 ('other'):Backup:Cron: '99 99 * * *'", console.Error, StringComparison.Ordinal);
        Assert.Contains("minute 99 is out of range 0-59", console.Error, StringComparison.Ordinal);
    }

    // Placeholders inside quotes, and names or data dirs with shell characters, would let configured text run as
    // commands (sh -c "echo {name}" with a member named $(touch pwned); ssh re-parses its command line remotely).
    [Fact]
    public async Task Hostile_member_values_and_quoted_placeholders_stop_startup_with_the_reason()
    {
        using var data = new TestDirectory("templates");
        var pwned = data.Combine("pwned");
        var environment = ValidCluster(data);
        environment["Console__Clusters__0__Members__0__Name"] = "m1";
        environment["Console__Clusters__0__Members__0__PeerUrl"] = "http://127.0.0.1:2380";
        environment["Console__Clusters__0__Members__0__DataDir"] = "/var/lib/etcd";
        environment["Console__Clusters__0__Members__0__Control"] = "Command";
        environment["Console__Clusters__0__Members__0__Commands__Stop"] = "sh -c \"echo {name}\"";
        environment["Console__Clusters__0__Members__0__Commands__Start"] = "systemctl start etcd";
        environment["Console__Clusters__0__Members__1__Name"] = $"$(touch {pwned})";
        environment["Console__Clusters__0__Members__1__DataDir"] = $"/var/lib/etcd;touch {pwned}";
        environment["Console__Clusters__0__Members__2__Name"] = "m3=x,m4";
        using var console = ConsoleProcess.Start(environment);

        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        var error = console.Error;
        Assert.Contains("Console:Clusters:0 ('prod'):Members:0:Commands:Stop: the placeholder {name} is inside quotes", error, StringComparison.Ordinal);
        Assert.Contains($"Console:Clusters:0 ('prod'):Members:1:Name: '$(touch {pwned})' may contain only", error, StringComparison.Ordinal);
        Assert.Contains($"Console:Clusters:0 ('prod'):Members:1:DataDir: '/var/lib/etcd;touch {pwned}' may contain only", error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:0 ('prod'):Members:2:Name: 'm3=x,m4' may contain only", error, StringComparison.Ordinal);
        Assert.False(File.Exists(pwned));
    }

    // A damaged console.db used to be taken for a first run: a new admin, every user, token, record and audit entry gone.
    [Theory]
    [InlineData("empty")]
    [InlineData("garbage")]
    [InlineData("truncated")]
    [InlineData("foreign")]
    public async Task A_damaged_database_stops_startup_naming_the_file_and_changes_nothing(string damage)
    {
        using var data = new TestDirectory("damaged-db");
        var file = data.Combine("console.db");
        await DamagedDatabaseAsync(data.Path, file, damage);
        var before = await File.ReadAllBytesAsync(file);
        using var console = ConsoleProcess.Start(new Dictionary<string, string>
        {
            ["Console__DataDir"] = data.Path,
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });

        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains($"The database {file} exists but is", console.Error, StringComparison.Ordinal);
        Assert.Contains("restore it from a backup", console.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("one-time password", console.Output + console.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", console.Output + console.Error, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task A_damaged_scheduler_store_stops_startup_naming_the_file()
    {
        using var data = new TestDirectory("damaged-scheduler");
        var file = data.Combine("hangfire.db");
        await File.WriteAllBytesAsync(file, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))]);
        using var console = ConsoleProcess.Start(new Dictionary<string, string>
        {
            ["Console__DataDir"] = data.Path,
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });

        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains($"The database {file} exists but is", console.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", console.Output + console.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_database_is_a_first_run_with_a_new_admin()
    {
        using var data = new TestDirectory("first-run");
        using var console = ConsoleProcess.Start(new Dictionary<string, string>
        {
            ["Console__DataDir"] = data.Path,
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });

        await console.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(90));

        Assert.Contains("First run: created the user 'admin' with the one-time password", console.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(data.Combine("console.db")));
        console.Interrupt();
        Assert.Equal(0, await console.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    private static Dictionary<string, string> ValidCluster(TestDirectory data) => new()
    {
        ["Console__DataDir"] = data.Path,
        ["Console__Clusters__0__Name"] = "prod",
        ["Console__Clusters__0__Endpoints__0"] = "http://127.0.0.1:2379",
        ["Console__Clusters__0__Backup__Enabled"] = "true",
        ["Console__Clusters__0__Backup__Interval"] = "6h",
        ["Console__Clusters__0__Backup__Targets__0"] = "local",
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
    };

    private static async Task DamagedDatabaseAsync(string dataDir, string file, string damage)
    {
        switch (damage)
        {
            case "empty":
                await File.WriteAllBytesAsync(file, []);
                break;
            case "garbage":
                await File.WriteAllBytesAsync(file, [.. Enumerable.Range(0, 8192).Select(i => (byte)(i * 31))]);
                break;
            case "foreign":
                // A healthy SQLite file, but not ours: no schema marker.
                await WithConnectionAsync(file, "CREATE TABLE other (x INTEGER); INSERT INTO other VALUES (1);");
                break;
            case "truncated":
                // A real console database with users and audit entries, cut to half its pages.
                var database = new Console.Infrastructure.Persistence.ConsoleDatabase(Microsoft.Extensions.Options.Options.Create(new Console.Domain.Configuration.ConsoleSettings { DataDir = dataDir }));
                await database.MigrateAsync(CancellationToken.None);
                var rows = string.Concat(Enumerable.Range(0, 2000).Select(i =>
                    $"INSERT INTO audit_log (at, actor, action, outcome, detail) VALUES ('2026-01-01', 'admin', 'Test', 'Succeeded', '{new string('x', 200)}{i}');"));
                await WithConnectionAsync(file, rows + "PRAGMA wal_checkpoint(TRUNCATE);");
                using (var stream = new FileStream(file, FileMode.Open))
                {
                    stream.SetLength(stream.Length / 2);
                }

                break;
        }
    }

    private static async Task WithConnectionAsync(string file, string sql)
    {
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(file + "-wal");
        File.Delete(file + "-shm");
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

    // run.sh and operators run the build output as Production, where package assets (the framework's blazor.web.js,
    // MudBlazor's script and styles) are served only because Program.cs asks for static web assets.
    [Fact]
    public async Task The_built_console_serves_the_framework_script_and_mudblazor_assets_before_sign_in()
    {
        using var data = new TestDirectory("assets");
        var port = FreePorts.Pick(1)[0];
        using var console = ConsoleProcess.Start(new Dictionary<string, string>
        {
            ["Console__DataDir"] = data.Path,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
        });
        await console.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(90));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var signIn = await http.GetStringAsync(new Uri("/account/login", UriKind.Relative));
        var fingerprinted = System.Text.RegularExpressions.Regex.Match(signIn, @"_framework/blazor\.web\.[a-z0-9]+\.js").Value;
        Assert.NotEmpty(fingerprinted);
        foreach (var path in new[] { "/_framework/blazor.web.js", "/" + fingerprinted, "/_content/MudBlazor/MudBlazor.min.js" })
        {
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode}");
            Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        }

        // The reconnect banner is styled against the classes this script sets.
        Assert.Contains("components-reconnect-show", await http.GetStringAsync(new Uri("/_framework/blazor.web.js", UriKind.Relative)), StringComparison.Ordinal);
        using (var css = await http.GetAsync(new Uri("/_content/MudBlazor/MudBlazor.min.css", UriKind.Relative)))
        {
            Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
        }

        console.Interrupt();
        Assert.Equal(0, await console.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }

    // Ctrl+C once went unanswered for 60 s on a loaded machine. A member frozen in the kernel acts on neither SIGTERM
    // nor SIGKILL, the worst a stop can meet: shutdown still ends within its bound, says what it is waiting for, and
    // leaves that member in the pid file for the next start; thawed, it dies of the SIGKILL it was sent.
    [FreezerFact]
    public async Task Ctrl_c_exits_within_its_bound_naming_what_it_waits_for_when_a_member_ignores_every_signal()
    {
        using var data = new TestDirectory("sigint-frozen");
        var port = FreePorts.Pick(1)[0];
        using var console = ConsoleProcess.Start(new Dictionary<string, string>
        {
            ["Console__DataDir"] = data.Path,
            ["Console__Sandbox__Enabled"] = "true",
            ["Console__Sandbox__SeedKeys"] = "10",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
        });
        await console.WaitForOutputAsync("Application started", TimeSpan.FromSeconds(90));
        var pidFile = Path.Combine(data.Path, "sandbox", "members.pid");
        var pids = File.ReadAllLines(pidFile).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList();
        var frozen = pids[1];
        using var freezer = await Freezer.FreezeAsync(frozen);

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        console.Interrupt();
        var exit = await console.WaitForExitAsync(TimeSpan.FromSeconds(90));
        stopwatch.Stop();

        Assert.Equal(0, exit);
        Assert.True(stopwatch.Elapsed < ShutdownBudget.Process, $"the console took {stopwatch.Elapsed} to exit; its budget is {ShutdownBudget.Process}");
        var output = console.Output;
        Assert.Contains("still waiting for: ", output, StringComparison.Ordinal);
        Assert.Contains($"sandbox member m2 (pid {frozen}) to exit after SIG", output, StringComparison.Ordinal);
        Assert.Contains($"Sandbox member m2 (pid {frozen}) did not stop after SIGTERM; sending SIGKILL", output, StringComparison.Ordinal);
        Assert.Contains($"Sandbox member m2 (pid {frozen}) is still there after SIGKILL", output, StringComparison.Ordinal);
        Assert.Equal([frozen], File.ReadAllLines(pidFile).Select(l => int.Parse(l, CultureInfo.InvariantCulture)));
        Assert.All(pids.Where(p => p != frozen), pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"etcd member pid {pid} outlived the console"));

        freezer.Thaw();
        await Eventually.ValueAsync(() => Task.FromResult(Directory.Exists($"/proc/{frozen}")), exists => !exists, TimeSpan.FromSeconds(30));
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
