using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Console.Domain.Configuration;
using Console.Infrastructure.Sandbox;

namespace Console.Bench;

/// <summary>
/// The npm package s3rver (scripts/setup.sh or npm ci installs it) as a child process on a free loopback port, storing
/// objects under its own directory with the bucket made at start. Disposing kills it and removes the directory.
/// </summary>
internal sealed class S3rverProcess : IAsyncDisposable
{
    public const string Bucket = "backups";

    private readonly Process _process;
    private readonly string _directory;

    private S3rverProcess(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public S3StorageSettings Settings(int partSizeMiB, int parallelParts) => new()
    {
        Bucket = Bucket,
        Prefix = "etcd",
        Region = "us-east-1",
        Endpoint = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Port}"),
        AccessKeyId = "S3RVER",
        SecretAccessKey = "S3RVER",
        ForcePathStyle = true,
        PartSizeMiB = partSizeMiB,
        ParallelParts = parallelParts,
    };

    public static async Task<S3rverProcess> StartAsync(string binary, string directory, CancellationToken cancellationToken)
    {
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"s3rver is not installed at {Path.GetFullPath(binary)}: run scripts/setup.sh (or npm ci), or pass --s3rver PATH");
        }

        Directory.CreateDirectory(directory);
        var port = FreePorts.Pick(1)[0];
        var info = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };

        // s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node's OpenSSL 3 only offers from its
        // legacy provider.
        info.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        foreach (var argument in new[] { "--directory", directory, "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--silent", "--configure-bucket", Bucket })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {binary}");
        var server = new S3rverProcess(process, directory, port);
        var errors = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                if (process.HasExited)
                {
                    await process.WaitForExitAsync(cancellationToken);
                    lock (errors)
                    {
                        throw new InvalidOperationException($"s3rver exited with {process.ExitCode} at start:\n{errors}");
                    }
                }

                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync("127.0.0.1", port, cancellationToken);
                    return server;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50, cancellationToken);
                }
            }
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
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (TimeoutException)
        {
            // Killed but not reaped in time; the directory is removed all the same.
        }

        _process.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
