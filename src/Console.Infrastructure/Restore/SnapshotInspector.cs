using System.Diagnostics;
using Console.Domain.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Sandbox;

namespace Console.Infrastructure.Restore;

/// <summary>What a snapshot holds, found by really restoring it.</summary>
public sealed record SnapshotContents(string Sha256, long SizeBytes, long Revision, long KeyCount);

/// <summary>
/// Verifies a staged snapshot before anything destructive: its sha256 footer and size, then restores it into a
/// throwaway directory and starts a single etcd member on loopback there to read its revision and live key count.
/// A snapshot that passes this has been restored once already.
/// </summary>
public static class SnapshotInspector
{
    /// <param name="restoreTool">etcdctl (up to 3.5) or etcdutl (3.5+, the only one from 3.6).</param>
    public static async Task<SnapshotContents> InspectAsync(string snapshotPath, string etcdBinary, string restoreTool, CancellationToken cancellationToken)
    {
        var sha = await SnapshotVerifier.VerifyFileAsync(snapshotPath, cancellationToken).ConfigureAwait(false);
        var size = new FileInfo(snapshotPath).Length;
        var scratch = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(snapshotPath))!, $"inspect-{Guid.NewGuid():N}");
        var ports = FreePorts.Pick(2);
        var layout = new EtcdMemberLayout("inspect", ports[0], ports[1], Path.Combine(scratch, "data"));
        var initialCluster = EtcdMemberLayout.InitialCluster([layout]);
        try
        {
            Directory.CreateDirectory(scratch);
            var info = new ProcessStartInfo(restoreTool) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            info.Environment["ETCDCTL_API"] = "3";
            foreach (var argument in new[] { "snapshot", "restore", snapshotPath, "--name", "inspect", "--initial-cluster", initialCluster, "--initial-advertise-peer-urls", layout.PeerUrl.ToString().TrimEnd('/'), "--data-dir", layout.DataDir })
            {
                info.ArgumentList.Add(argument);
            }

            using (var restore = Process.Start(info)!)
            {
                var errors = restore.StandardError.ReadToEndAsync(cancellationToken);
                _ = await restore.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                await restore.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                if (restore.ExitCode != 0)
                {
                    throw new SnapshotIntegrityException($"{restoreTool} could not restore the snapshot (exit {restore.ExitCode}): {(await errors.ConfigureAwait(false)).Trim()}");
                }
            }

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
}
