using System.Diagnostics;

namespace Console.Infrastructure.Restore;

/// <summary>How a tool run ended: its exit code and everything it printed, or that it ran out of time.</summary>
public sealed record ToolRun(int Exit, string Output, bool TimedOut);

/// <summary>
/// Runs etcdctl/etcdutl and operators' command templates the one way: arguments as a list (never a shell line we
/// build), ETCDCTL_API=3, both streams captured, and on timeout the tool and everything it started killed and reaped.
/// </summary>
public static class ToolProcess
{
    public static async Task<ToolRun> RunAsync(string tool, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var info = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["ETCDCTL_API"] = "3";
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new IOException($"could not start {tool}");
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
        var stderr = process.StandardError.ReadToEndAsync(limit.Token);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return new ToolRun(-1, $"timed out after {timeout.TotalSeconds:0} s", TimedOut: true);
        }

        return new ToolRun(process.ExitCode, $"{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}".Trim(), TimedOut: false);
    }
}
