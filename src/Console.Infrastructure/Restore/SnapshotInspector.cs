using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Restore;

/// <summary>What a snapshot holds, found by really restoring it.</summary>
public sealed record SnapshotContents(string Sha256, long SizeBytes, long Revision, long KeyCount);

/// <summary>
/// Verifies a staged snapshot before anything destructive: its sha256 footer and size, then restores it into a
/// throwaway directory and starts a single etcd member on loopback there to read its revision and live key count.
/// A snapshot that passes this has been restored once already.
/// </summary>
public static partial class SnapshotInspector
{
    /// <param name="restoreTool">etcdctl (up to 3.5) or etcdutl (3.5+, the only one from 3.6): a name on PATH or a path.</param>
    /// <param name="timeout">How long the restore into the throwaway directory may take: a file that makes the tool hang
    /// must not hold the wizard.</param>
    public static async Task<SnapshotContents> InspectAsync(string snapshotPath, string etcdBinary, string restoreTool, TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var sha = await SnapshotVerifier.VerifyFileAsync(snapshotPath, cancellationToken).ConfigureAwait(false);
        var size = new FileInfo(snapshotPath).Length;
        var scratch = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(snapshotPath))!, $"inspect-{Guid.NewGuid():N}");
        var ports = FreePorts.Pick(2);
        var layout = new EtcdMemberLayout("inspect", ports[0], ports[1], Path.Combine(scratch, "data"));
        var initialCluster = EtcdMemberLayout.InitialCluster([layout]);
        try
        {
            Directory.CreateDirectory(scratch);
            string[] arguments = ["snapshot", "restore", snapshotPath, "--name", "inspect", "--initial-cluster", initialCluster, "--initial-advertise-peer-urls", layout.PeerUrl.ToString().TrimEnd('/'), "--data-dir", layout.DataDir];
            await RunRestoreToolAsync(restoreTool, arguments, timeout, logger, cancellationToken).ConfigureAwait(false);

            await using var member = EtcdProcess.Start(etcdBinary, layout, initialCluster, "inspect");
            var spec = new ClusterSpec(ClusterName.Parse("inspect"), [layout.ClientUrl], null, null, []);
            using var client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    var status = await client.StatusAsync(layout.ClientUrl, cancellationToken).ConfigureAwait(false);
                    if (status.Leader != 0)
                    {
                        var keys = await client.CountKeysAsync(layout.ClientUrl, string.Empty, cancellationToken).ConfigureAwait(false);
                        return new SnapshotContents(sha, size, status.Revision, keys);
                    }
                }
                catch (EtcdException) when (DateTime.UtcNow < deadline && !member.HasExited)
                {
                }

                if (member.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new SnapshotIntegrityException($"an etcd started on the restored snapshot did not come up: {member.LogTail(3)}");
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// Runs the restore tool; on failure the page gets one line (a Go panic's message, not its goroutine dump) and the log
    /// the whole output. On timeout the tool and anything it started are killed.
    /// </summary>
    private static async Task RunRestoreToolAsync(string restoreTool, string[] arguments, TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        var run = await ToolProcess.RunAsync(restoreTool, arguments, timeout, cancellationToken).ConfigureAwait(false);
        if (run.TimedOut)
        {
            throw new TimeoutException($"{restoreTool} snapshot restore did not finish within {timeout}; it was stopped (Console:Restore:InspectTimeout)");
        }

        if (run.Exit != 0)
        {
            LogRestoreFailed(logger, restoreTool, arguments[2], run.Exit, run.Output);
            throw new SnapshotIntegrityException($"{restoreTool} could not restore the snapshot (exit {run.Exit}): {ToolOutput.Summary(run.Output)} (the full output is in the console's log)");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Tool} snapshot restore of {Snapshot} failed with exit {Exit}:\n{Output}")]
    private static partial void LogRestoreFailed(ILogger logger, string tool, string snapshot, int exit, string output);
}
