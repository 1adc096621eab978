using System.Security.Cryptography;
using Console.Infrastructure.Restore;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;

namespace Console.Web.Tests.Infrastructure.Restore;

[System.Runtime.Versioning.SupportedOSPlatform("linux")] // a shell script stands in for the tool
public sealed class SnapshotInspectorTests
{
    /// <summary>
    /// A restore tool that never finishes (here a script standing in for an etcdctl that hangs on a file) is killed
    /// with the processes it started once the timeout passes, and the inspection fails with a clear error.
    /// </summary>
    [Fact]
    public async Task A_restore_tool_that_hangs_is_killed_with_its_children_after_the_timeout()
    {
        using var dir = new TestDirectory("inspect");
        var body = RandomNumberGenerator.GetBytes(512 * 4);
        var snapshot = dir.Combine("hangs.db");
        await File.WriteAllBytesAsync(snapshot, [.. body, .. SHA256.HashData(body)]);
        var pidFile = dir.Combine("child.pid");
        var tool = dir.Combine("etcdctl-that-hangs");
        await File.WriteAllTextAsync(tool, $"#!/bin/sh\nsleep 600 &\necho $! > '{pidFile}'\nwait\n");
        File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => SnapshotInspector.InspectAsync(snapshot, "etcd", tool, TimeSpan.FromSeconds(2), NullLogger.Instance, CancellationToken.None));

        Assert.Contains("did not finish within", error.Message, StringComparison.Ordinal);
        Assert.Contains("Console:Restore:InspectTimeout", error.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        var child = int.Parse(await File.ReadAllTextAsync(pidFile), System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.ValueAsync(() => Task.FromResult(IsRunning(child)), running => !running, TimeSpan.FromSeconds(30));
        Assert.Empty(Directory.GetDirectories(dir.Path, "inspect-*"));
    }

    /// <summary>Alive and not a zombie waiting for a parent that has gone (a container's init may never reap it).</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }
}
