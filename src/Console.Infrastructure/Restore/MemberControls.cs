using Console.Domain.Clusters;
using Console.Domain.Restore;
using Console.Infrastructure.Sandbox;

namespace Console.Infrastructure.Restore;

/// <summary>One member of a restore: its plan, its configuration, and the URLs that must refuse connections for it to be down.</summary>
public sealed record MemberContext(RestorePlan Plan, RestoreMemberPlan Member, MemberSpec Spec, IReadOnlyList<Uri> DownUrls)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    public string Name => Member.Name;

    /// <summary>Null when the member is proven down (see <see cref="MemberProbe"/>); otherwise why not.</summary>
    public Task<string?> WhyNotDownAsync(CancellationToken cancellationToken) => MemberProbe.WhyNotDownAsync(DownUrls, ProbeTimeout, cancellationToken);

    public string Fill(string template) => CommandTemplate.Fill(template, Plan, Member);

    /// <summary>What an operator runs to put the original data back.</summary>
    public string RollBackByHand =>
        $"by hand: stop it, then `mv {Shell.Quote(Member.DataDir)} {Shell.Quote(Member.DataDir)}.failed-restore && mv {Shell.Quote(Member.AsideDir)} {Shell.Quote(Member.DataDir)}`, then start it";
}

/// <summary>
/// How the console stops, restores, starts and rolls back one kind of member (Managed, Command, Manual). Each returns
/// the member's new state with what happened in words; none decides what step comes next.
/// </summary>
public interface IMemberControl
{
    MemberControl Kind { get; }

    /// <summary>The member's own URLs when this control knows them better than the configuration; null otherwise.</summary>
    IReadOnlyList<Uri>? OwnUrls(string member);

    /// <summary>Stopped once proven down; Running with why not; AwaitingStop for the operator.</summary>
    Task<MemberProgress> StopAsync(MemberContext member, CancellationToken cancellationToken);

    /// <summary>Restored, RestoreFailed, Running (it came back: its data is left alone), or AwaitingRestore for the operator.</summary>
    Task<MemberProgress> RestoreAsync(MemberContext member, CancellationToken cancellationToken);

    /// <summary>Starts the member on whatever data it has (restored, or untouched when a restore is abandoned).</summary>
    Task<MemberProgress> StartAsync(MemberContext member, MemberProgress current, CancellationToken cancellationToken);

    /// <summary>RolledBack with its original data in place and started, or ByHand with what the operator must do.</summary>
    Task<MemberProgress> RollBackAsync(MemberContext member, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The control for each kind of member.</summary>
public sealed class MemberControls(IEnumerable<IMemberControl> controls)
{
    private readonly Dictionary<MemberControl, IMemberControl> _byKind = controls.ToDictionary(c => c.Kind);

    public IMemberControl For(MemberControl kind) => _byKind[kind];
}

/// <summary>The sandbox's own members: the console owns their processes and data dirs.</summary>
public sealed class ManagedMemberControl(RestoreExecutor executor, SandboxCluster? sandbox = null) : IMemberControl
{
    public MemberControl Kind => MemberControl.Managed;

    private SandboxCluster Sandbox => sandbox ?? throw new InvalidOperationException("members marked Managed need the sandbox (Console:Sandbox:Enabled)");

    public IReadOnlyList<Uri>? OwnUrls(string member) =>
        sandbox?.Members.FirstOrDefault(m => m.Layout.Name == member)?.Layout is { } layout ? [layout.ClientUrl, layout.PeerUrl] : null;

    public async Task<MemberProgress> StopAsync(MemberContext member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        await Sandbox.StopMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
        return await member.WhyNotDownAsync(cancellationToken).ConfigureAwait(false) is { } why
            ? new MemberProgress(MemberState.Running, $"still answering: {why}")
            : new MemberProgress(MemberState.Stopped, "stopped (proven down: its client and peer URLs refuse connections)");
    }

    public async Task<MemberProgress> RestoreAsync(MemberContext member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);

        // The console may have restarted since the stop, and the sandbox with it: stop again before touching the data.
        await Sandbox.StopMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
        return await CommandMemberControl.RestoreWhenDownAsync(member, () => executor.RestoreMemberAsync(member.Plan, member.Member, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    public async Task<MemberProgress> StartAsync(MemberContext member, MemberProgress current, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(current);
        await Sandbox.StartMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
        return current with { State = current.DataReplaced ? MemberState.Starting : current.State, Detail = "started by the console" };
    }

    public async Task<MemberProgress> RollBackAsync(MemberContext member, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        await Sandbox.StopMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
        var rolled = RestoreExecutor.RollBack(member.Member, now);
        await Sandbox.StartMemberAsync(member.Name, cancellationToken).ConfigureAwait(false);
        return new MemberProgress(rolled.Ok ? MemberState.RolledBack : MemberState.ByHand, rolled.Detail);
    }
}

/// <summary>Members the console runs configured command templates for (systemctl, ssh, ...), with a timeout, output recorded.</summary>
public sealed class CommandMemberControl(RestoreExecutor executor) : IMemberControl
{
    public MemberControl Kind => MemberControl.Command;

    public IReadOnlyList<Uri>? OwnUrls(string member) => null;

    public async Task<MemberProgress> StopAsync(MemberContext member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        var output = await RunAsync(member, "stop", Commands(member).Stop, cancellationToken).ConfigureAwait(false);
        return await member.WhyNotDownAsync(cancellationToken).ConfigureAwait(false) is { } why
            ? new MemberProgress(MemberState.Running, $"still answering after {output.Detail}: {why}")
            : new MemberProgress(MemberState.Stopped, $"stopped (its client and peer URLs refuse connections; {output.Detail})");
    }

    /// <summary>With a Restore template the command restores (perhaps on another host); without, the console does it here.</summary>
    public Task<MemberProgress> RestoreAsync(MemberContext member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        return RestoreWhenDownAsync(
            member,
            () => Commands(member).Restore is { } template
                ? RunAsync(member, "restore", template, cancellationToken)
                : executor.RestoreMemberAsync(member.Plan, member.Member, cancellationToken),
            cancellationToken);
    }

    public async Task<MemberProgress> StartAsync(MemberContext member, MemberProgress current, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(current);
        var started = await RunAsync(member, "start", Commands(member).Start, cancellationToken).ConfigureAwait(false);
        return current with { State = current.DataReplaced ? MemberState.Starting : current.State, Detail = started.Detail };
    }

    /// <summary>The console moves the dirs back only where it restored them itself (no Restore template).</summary>
    public async Task<MemberProgress> RollBackAsync(MemberContext member, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (Commands(member).Restore is not null)
        {
            return new MemberProgress(MemberState.ByHand, member.RollBackByHand);
        }

        var stopped = await RunAsync(member, "stop", Commands(member).Stop, cancellationToken).ConfigureAwait(false);
        if (!stopped.Ok)
        {
            return new MemberProgress(MemberState.ByHand, $"not rolled back, its stop command failed ({stopped.Detail}); {member.RollBackByHand}");
        }

        var rolled = RestoreExecutor.RollBack(member.Member, now);
        var started = await RunAsync(member, "start", Commands(member).Start, cancellationToken).ConfigureAwait(false);
        return new MemberProgress(rolled.Ok && started.Ok ? MemberState.RolledBack : MemberState.ByHand, $"{rolled.Detail}; {started.Detail}");
    }

    /// <summary>Never touches a data dir under a running etcd (someone may have started it since the stop).</summary>
    internal static async Task<MemberProgress> RestoreWhenDownAsync(MemberContext member, Func<Task<MemberStepResult>> restore, CancellationToken cancellationToken)
    {
        if (await member.WhyNotDownAsync(cancellationToken).ConfigureAwait(false) is { } why)
        {
            return new MemberProgress(MemberState.Running, $"running again ({why}): its data was not touched; stop it (or go back with Roll back)");
        }

        var result = await restore().ConfigureAwait(false);
        return result.Ok ? new MemberProgress(MemberState.Restored, result.Detail) : new MemberProgress(MemberState.RestoreFailed, result.Detail);
    }

    private Task<MemberStepResult> RunAsync(MemberContext member, string what, string template, CancellationToken cancellationToken) =>
        executor.RunCommandAsync(member.Name, what, member.Fill(template), cancellationToken);

    private static MemberCommands Commands(MemberContext member) =>
        member.Spec.Commands ?? throw new InvalidOperationException($"{member.Name} is controlled by Command but has no Commands configured");
}

/// <summary>Members on hosts the console cannot reach: the operator runs the shown commands and marks each done.</summary>
public sealed class ManualMemberControl : IMemberControl
{
    public MemberControl Kind => MemberControl.Manual;

    public IReadOnlyList<Uri>? OwnUrls(string member) => null;

    public Task<MemberProgress> StopAsync(MemberContext member, CancellationToken cancellationToken) =>
        Task.FromResult(new MemberProgress(MemberState.AwaitingStop, "run the stop command on the host, then mark it done"));

    public Task<MemberProgress> RestoreAsync(MemberContext member, CancellationToken cancellationToken) =>
        Task.FromResult(new MemberProgress(MemberState.AwaitingRestore, "run the restore and move commands on the host, then mark it done"));

    public Task<MemberProgress> StartAsync(MemberContext member, MemberProgress current, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        return Task.FromResult(current with { State = current.DataReplaced ? MemberState.Starting : current.State, Detail = "start it on its host" });
    }

    public Task<MemberProgress> RollBackAsync(MemberContext member, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        return Task.FromResult(new MemberProgress(MemberState.ByHand, member.RollBackByHand));
    }
}
