using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;
using Microsoft.Extensions.Logging;

namespace Console.Infrastructure.Restore;

/// <summary>What a snapshot holds, found by really restoring it.</summary>
public sealed record SnapshotContents(string Sha256, long SizeBytes, long Revision, long KeyCount);

/// <summary>
/// A snapshot restored into a scratch directory with a single etcd member serving it on loopback: its contents, and a
/// client to read more (a drill reads the canary and replays deltas into it). Disposing stops the member (SIGTERM,
/// then SIGKILL) and deletes the scratch directory.
/// </summary>
public sealed class RestoredMember : IAsyncDisposable
{
    private readonly string _scratch;
    private readonly EtcdProcess _process;

    internal RestoredMember(string scratch, EtcdProcess process, EtcdClusterClient client, SnapshotContents contents)
    {
        _scratch = scratch;
        _process = process;
        Client = client;
        Contents = contents;
    }

    public SnapshotContents Contents { get; }

    public EtcdClusterClient Client { get; }

    public Uri ClientUrl => _process.Layout.ClientUrl;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync().ConfigureAwait(false);
        SnapshotInspector.DeleteScratch(_scratch);
    }
}

/// <summary>
/// Verifies a staged snapshot before anything destructive: its sha256 footer and size, then restores it into a
/// throwaway directory and starts a single etcd member on loopback there to read its revision and live key count.
/// A snapshot that passes this has been restored once already. The restore wizard and the restore drills share it.
/// </summary>
public static partial class SnapshotInspector
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    /// <param name="restoreTool">etcdctl (up to 3.5) or etcdutl (3.5+, the only one from 3.6): a name on PATH or a path.</param>
    /// <param name="timeout">How long the restore into the throwaway directory may take: a file that makes the tool hang
    /// must not hold the wizard.</param>
    public static async Task<SnapshotContents> InspectAsync(string snapshotPath, string etcdBinary, string restoreTool, TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        var member = await StartRestoredAsync(snapshotPath, etcdBinary, restoreTool, timeout, logger, cancellationToken).ConfigureAwait(false);
        await using (member.ConfigureAwait(false))
        {
            return member.Contents;
        }
    }

    /// <summary>
    /// Checks the footer, restores <paramref name="snapshotPath"/> into a scratch directory beside it, starts a member
    /// there and waits until it serves reads. The caller owns the returned member; on any failure nothing is left running.
    /// </summary>
    /// <param name="phase">Told "restoring", then "starting" (a drill shows it).</param>
    public static async Task<RestoredMember> StartRestoredAsync(string snapshotPath, string etcdBinary, string restoreTool, TimeSpan timeout, ILogger logger, CancellationToken cancellationToken, Action<string>? phase = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var sha = await SnapshotVerifier.VerifyFileAsync(snapshotPath, cancellationToken).ConfigureAwait(false);
        var size = new FileInfo(snapshotPath).Length;
        var scratch = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(snapshotPath))!, $"inspect-{Guid.NewGuid():N}");
        var ports = FreePorts.Pick(2);
        var layout = new EtcdMemberLayout("inspect", ports[0], ports[1], Path.Combine(scratch, "data"));
        var initialCluster = EtcdMemberLayout.InitialCluster([layout]);
        EtcdProcess? member = null;
        EtcdClusterClient? client = null;
        try
        {
            Directory.CreateDirectory(scratch);
            phase?.Invoke("restoring");
            string[] arguments = ["snapshot", "restore", snapshotPath, "--name", "inspect", "--initial-cluster", initialCluster, "--initial-advertise-peer-urls", layout.PeerUrl.ToString().TrimEnd('/'), "--data-dir", layout.DataDir];
            await RunRestoreToolAsync(restoreTool, arguments, timeout, logger, cancellationToken).ConfigureAwait(false);

            phase?.Invoke("starting");
            member = EtcdProcess.Start(etcdBinary, layout, initialCluster, "inspect");
            var spec = new ClusterSpec(ClusterName.Parse("inspect"), [layout.ClientUrl], null, null, []);
            client = new EtcdClusterClient(spec, TimeSpan.FromSeconds(5));
            var contents = await WaitServingAsync(member, client, sha, size, cancellationToken).ConfigureAwait(false);
            return new RestoredMember(scratch, member, client, contents);
        }
        catch
        {
            client?.Dispose();
            if (member is not null)
            {
                await member.DisposeAsync().ConfigureAwait(false);
            }

            DeleteScratch(scratch);
            throw;
        }
    }

    private static async Task<SnapshotContents> WaitServingAsync(EtcdProcess member, EtcdClusterClient client, string sha, long size, CancellationToken cancellationToken)
    {
        var url = member.Layout.ClientUrl;
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            try
            {
                var status = await client.StatusAsync(url, cancellationToken).ConfigureAwait(false);
                if (status.Leader != 0)
                {
                    var keys = await client.CountKeysAsync(url, string.Empty, cancellationToken).ConfigureAwait(false);
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

    internal static void DeleteScratch(string scratch)
    {
        try
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
        catch (IOException)
        {
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
