using System.Globalization;
using Console.Domain.Restore;

namespace Console.Infrastructure.Restore;

/// <summary>The outcome of one step on one member, as the wizard records it.</summary>
public sealed record MemberStepResult(string Member, bool Ok, string Detail);

/// <summary>
/// Carries out the data part of a restore on members whose data dirs this console can reach: restore into the fresh
/// sibling dir (the restore tool refuses an existing dir, and a failed restore leaves a partial one, so never the
/// live dir), then move the old dir aside and the restored one into place. Roll back puts the old dirs back.
/// Nothing here ever deletes a data dir.
/// </summary>
public sealed class RestoreExecutor(TimeSpan commandTimeout)
{
    public async Task<MemberStepResult> RestoreMemberAsync(RestorePlan plan, RestoreMemberPlan member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(member);
        if (Directory.Exists(member.RestoreDir))
        {
            return new MemberStepResult(member.Name, false, $"{member.RestoreDir} already exists (an earlier attempt?); move it away and retry");
        }

        var arguments = new List<string>
        {
            "snapshot", "restore", plan.SnapshotPath,
            "--name", member.Name,
            "--initial-cluster", plan.InitialCluster,
            "--initial-cluster-token", plan.Token,
            "--initial-advertise-peer-urls", member.PeerUrl.ToString().TrimEnd('/'),
            "--data-dir", member.RestoreDir,
        };
        if (plan.BumpRevision is { } bump)
        {
            arguments.AddRange(["--bump-revision", bump.ToString(CultureInfo.InvariantCulture), "--mark-compacted"]);
        }

        var (exit, output) = await RunAsync(plan.Tool.Name, arguments, cancellationToken).ConfigureAwait(false);
        if (exit != 0)
        {
            return new MemberStepResult(member.Name, false, $"{plan.Tool.Name} snapshot restore failed (exit {exit}): {Tail(output)}");
        }

        try
        {
            if (Directory.Exists(member.DataDir))
            {
                Directory.Move(member.DataDir, member.AsideDir);
            }

            Directory.Move(member.RestoreDir, member.DataDir);
            return new MemberStepResult(member.Name, true, $"restored into {member.DataDir}; the old data is kept at {member.AsideDir}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new MemberStepResult(member.Name, false, $"restored into {member.RestoreDir} but swapping it in failed: {ex.Message} (old data: {(Directory.Exists(member.AsideDir) ? member.AsideDir : member.DataDir)})");
        }
    }

    /// <summary>Puts the member's old data dir back; the restored one is moved to a ".failed-restore" sibling, not deleted.</summary>
    public static MemberStepResult RollBack(RestoreMemberPlan member, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (!Directory.Exists(member.AsideDir))
        {
            return new MemberStepResult(member.Name, true, $"nothing to roll back: {member.DataDir} was not replaced");
        }

        try
        {
            if (Directory.Exists(member.DataDir))
            {
                Directory.Move(member.DataDir, $"{member.DataDir}.failed-restore-{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}");
            }

            Directory.Move(member.AsideDir, member.DataDir);
            return new MemberStepResult(member.Name, true, $"the original data is back in {member.DataDir}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new MemberStepResult(member.Name, false, $"rolling back failed: {ex.Message}; the original data is at {member.AsideDir}");
        }
    }

    /// <summary>Runs an operator's command template (already filled) with /bin/sh, with the timeout; output is returned for the record.</summary>
    public async Task<MemberStepResult> RunCommandAsync(string member, string what, string command, CancellationToken cancellationToken)
    {
        var (exit, output) = await RunAsync("/bin/sh", ["-c", command], cancellationToken).ConfigureAwait(false);
        var text = $"{what}: `{command}` exited {exit}{(string.IsNullOrWhiteSpace(output) ? string.Empty : $": {Tail(output)}")}";
        return new MemberStepResult(member, exit == 0, text);
    }

    private async Task<(int Exit, string Output)> RunAsync(string tool, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var run = await ToolProcess.RunAsync(tool, arguments, commandTimeout, cancellationToken).ConfigureAwait(false);
        return (run.Exit, run.Output);
    }

    private static string Tail(string output) => string.Join('\n', output.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(5));
}
