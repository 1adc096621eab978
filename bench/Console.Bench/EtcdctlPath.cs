using System.Diagnostics;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Storage;

namespace Console.Bench;

/// <summary>One snapshot written by either side: its wall time, size, and the sha256 footer read back from the file.</summary>
internal sealed record SnapshotFile(double Seconds, long Size, string Footer, IReadOnlyList<string> Paths)
{
    /// <summary>For the console: the part of <see cref="Seconds"/> spent before CompleteAsync (connecting and streaming).</summary>
    public double? StreamSeconds { get; init; }

    /// <summary>For a full backup run: its record's own duration (StartedAt to FinishedAt).</summary>
    public double? RecordSeconds { get; init; }

    /// <summary>For a full backup run: the time from the request to each phase's start, in order.</summary>
    public IReadOnlyList<(string Phase, double Seconds)> Phases { get; init; } = [];

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
