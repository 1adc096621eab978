using System.Diagnostics;
using System.Net.Sockets;
using Console.Domain.Configuration;
using Console.Infrastructure.Sandbox;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// The npm package s3rver (installed by scripts/setup.sh from package-lock.json): a real S3 protocol server on a
/// free loopback port with its own directory and a bucket made at start. It checks request signatures, so the
/// credentials matter. Kill() and StartAgain() simulate an outage on the same port and data.
/// </summary>
public sealed class S3rver : IAsyncDisposable
{
    public const string Bucket = "backups";
    private readonly TestDirectory _data = new("s3rver");
    private Process? _process;

    private S3rver(int port) => Port = port;

    public int Port { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    public S3StorageSettings Settings => new()
    {
        Bucket = Bucket,
        Prefix = "etcd",
        Region = "us-east-1",
        Endpoint = Endpoint.ToString().TrimEnd('/'),
        AccessKeyId = "S3RVER",
        SecretAccessKey = "S3RVER",
        ForcePathStyle = true,
        PartSizeMiB = 5,
        ParallelParts = 3,
        RetryInterval = TimeSpan.FromSeconds(1),
    };

    /// <summary>Configuration keys for the console (":"-separated, or "__" for environment variables).</summary>
    public Dictionary<string, string?> ConfigurationKeys(string separator = ":")
    {
        var s = Settings;
        string Key(string name) => $"Console{separator}Storage{separator}S3{separator}{name}";
        return new()
        {
            [Key("Bucket")] = s.Bucket,
            [Key("Prefix")] = s.Prefix,
            [Key("Endpoint")] = s.Endpoint,
            [Key("AccessKeyId")] = s.AccessKeyId,
            [Key("SecretAccessKey")] = s.SecretAccessKey,
            [Key("PartSizeMiB")] = "5",
            [Key("RetryInterval")] = "00:00:01",
        };
    }

    public static async Task<S3rver> StartAsync()
    {
        var server = new S3rver(FreePorts.Pick(1)[0]);
        try
        {
            await server.StartAgainAsync();
            return server;
        }
        catch
        {
            // A server that never listened is still a process: it must not outlive the test that gave up on it.
            await server.DisposeAsync();
            throw;
        }
    }

    public async Task StartAgainAsync()
    {
        var binary = Path.Combine(RepositoryRoot(), "node_modules", ".bin", "s3rver");
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"s3rver is not installed at {binary}: run scripts/setup.sh (npm ci)");
        }

        var info = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };

        // s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node's OpenSSL 3 only offers from its legacy
        // provider; without it every listing past the first 1,000 keys fails with an internal error.
        info.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        foreach (var argument in new[] { "--directory", _data.Path, "--address", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--configure-bucket", Bucket })
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Node starts in well under a second on a quiet machine and was seen to take over 30 s on a loaded one.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with {_process.ExitCode} at start");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>SIGKILL: connections drop mid-request, as when the storage endpoint dies.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Console.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }
}
