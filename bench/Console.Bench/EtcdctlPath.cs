using System.Diagnostics;
using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Storage;

namespace Console.Bench;

/// <summary>One snapshot written by either side: its wall time, size, and the sha256 footer read back from the file.</summary>
internal sealed record SnapshotFile(double Seconds, long Size, string Footer, IReadOnlyList<string> Paths)
{
    /// <summary>For the console: the part of <see cref="Seconds"/> spent before CompleteAsync (connecting and streaming).</summary>
    public double? StreamSeconds { get; init; }

    /// <summary>CPU seconds the client side used (the console's process, or the etcdctl child).</summary>
    public double ClientCpu { get; init; }

    /// <summary>CPU seconds etcd used while serving this snapshot.</summary>
    public double ServerCpu { get; init; }

    public static SnapshotFile Read(double seconds, string path, params string[] alsoDelete)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        var footer = new byte[SnapshotVerifier.FooterSize];
        file.Seek(-footer.Length, SeekOrigin.End);
        file.ReadExactly(footer);
        return new SnapshotFile(seconds, file.Length, Convert.ToHexStringLower(footer), [path, .. alsoDelete]);
    }

    public void Delete()
    {
        foreach (var path in Paths)
        {
            File.Delete(path);
        }
    }
}

/// <summary>
/// The console's snapshot path as BackupRunner runs it: a client for the cluster, EtcdClusterClient.SnapshotAsync streaming
/// into LocalSnapshotStore's writer with a progress sink, then CompleteAsync (fsync, rename, directory fsync,
/// manifest). Timed from creating the client (so connection set-up counts, as it does for etcdctl) to the manifest
/// being durable.
/// </summary>
internal sealed class ConsoleSnapshotPath(ClusterSpec spec, Uri endpoint, LocalSnapshotStore store)
{
    public async Task<SnapshotFile> RunAsync(CancellationToken cancellationToken)
    {
        var name = SnapshotName.For(spec.Name, DateTimeOffset.UtcNow);
        var clock = Stopwatch.StartNew();
        TimeSpan streamed;
        using (var client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5)))
        using (var writer = store.BeginWrite(name))
        {
            var startedAt = DateTimeOffset.UtcNow;
            var progress = new LatestProgress();
            var result = await client.SnapshotAsync(endpoint, writer, progress, SnapshotOptions.Default, cancellationToken);
            streamed = clock.Elapsed;
            await writer.CompleteAsync(
                BenchSnapshot.Manifest(spec, name, result, startedAt),
                cancellationToken);
        }

        clock.Stop();
        return SnapshotFile.Read(clock.Elapsed.TotalSeconds, store.PathOf(name), Path.Combine(store.Directory, name.ManifestFileName)) with { StreamSeconds = streamed.TotalSeconds };
    }
}

/// <summary><c>ETCDCTL_API=3 etcdctl --endpoints=URL snapshot save FILE</c> as a child process, timed from start to exit.</summary>
internal sealed class EtcdctlSnapshotPath(string binary, Uri endpoint, string directory)
{
    private int _count;

    public async Task<SnapshotFile> RunAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, $"etcdctl-{++_count}.db");
        var info = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add("--endpoints=" + endpoint.ToString().TrimEnd('/'));
        info.ArgumentList.Add("snapshot");
        info.ArgumentList.Add("save");
        info.ArgumentList.Add(path);

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {binary}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        clock.Stop();
        await Task.WhenAll(output, errors);
        return process.ExitCode != 0
            ? throw new InvalidOperationException($"etcdctl snapshot save exited with {process.ExitCode}: {await errors}{await output}")
            : SnapshotFile.Read(clock.Elapsed.TotalSeconds, path);
    }
}
