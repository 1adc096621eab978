using System.Diagnostics;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// A throwaway PostgreSQL 15 server (Debian's binaries) on 127.0.0.1 and a free port, in its own temporary directory,
/// stopped and deleted on dispose. PostgreSQL refuses to run as root, so as root it runs as 'nobody'.
/// </summary>
public sealed class TestPostgres : IAsyncDisposable
{
    public const string BinDir = "/usr/lib/postgresql/15/bin";

    private readonly string _dir;

    private TestPostgres(string dir, int port)
    {
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Trust authentication on loopback: no password to keep out of logs.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true";

    /// <param name="durable">fsync on, as a production server runs (the benchmark); tests run without it, for speed.</param>
    public static async Task<TestPostgres> StartAsync(bool durable = false)
    {
        if (!File.Exists(Path.Combine(BinDir, "initdb")))
        {
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDir}); run scripts/setup.sh");
        }

        // Directly under /tmp (not a per-user folder): 'nobody' must be able to reach it.
        var dir = Path.Combine("/tmp", $"etcd-console-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var port = Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0];
        var server = new TestPostgres(dir, port);
        try
        {
            if (Environment.UserName == "root")
            {
                await RunAsync("chown", ["nobody:nogroup", dir]);
            }

            await RunAsPostgresAsync("initdb", ["-D", Path.Combine(dir, "data"), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
            await RunAsPostgresAsync("pg_ctl", [
                "-D", Path.Combine(dir, "data"), "-l", Path.Combine(dir, "server.log"), "-w", "-t", "120",
                "-o", $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync={(durable ? "on" : "off")} -c max_connections=200", "start",
            ]);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(Path.Combine(_dir, "data", "postmaster.pid")))
            {
                await RunAsPostgresAsync("pg_ctl", ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "-t", "60", "stop"]);
            }
        }
        finally
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static Task RunAsPostgresAsync(string tool, string[] arguments) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", "nobody", "--", Path.Combine(BinDir, tool), .. arguments])
            : RunAsync(Path.Combine(BinDir, tool), arguments);

    private static async Task RunAsync(string file, string[] arguments)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await output}\n{await error}");
        }
    }
}
