using System.Diagnostics;

namespace Console.Bench;

/// <summary>
/// Before every timed snapshot: sync(1) and a short pause, so writeback and discards left by the previous run (a
/// 1 GiB file just fsynced and deleted) land in neither side's time. The same for both sides.
/// </summary>
internal static class Settle
{
    public static async Task DiskAsync(CancellationToken cancellationToken)
    {
        using (var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false }) ?? throw new InvalidOperationException("could not run sync"))
        {
            await sync.WaitForExitAsync(cancellationToken);
        }

        await Task.Delay(500, cancellationToken);
    }
}
