using System.Globalization;
using System.Text.Json;
using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Console.Infrastructure.Clusters;
using Console.Infrastructure.Etcd;
using Console.Infrastructure.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Sandbox;

/// <summary>
/// A local etcd cluster for trying the console: N members on free loopback ports, data under DataDir/sandbox,
/// registered as the cluster "sandbox" with managed members. Ports and the cluster token are remembered in
/// sandbox.json so a restart brings back the same cluster with its data. Members are stopped with the console;
/// members orphaned by a console that was killed are found by their pid file and stopped at the next start.
/// </summary>
public sealed partial class SandboxCluster(
    IOptions<ConsoleSettings> settings,
    ClusterCatalog catalog,
    EtcdClusterClientFactory clients,
    ILogger<SandboxCluster> logger,
    ShutdownWatch? shutdown = null) : IHostedService, IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly List<EtcdProcess> _members = [];
    private Task? _stopping;
    private (string Binary, string InitialCluster, string Token)? _launch;

    public string Directory { get; } = Path.GetFullPath(Path.Combine(settings.Value.DataDir, "sandbox"));

    public IReadOnlyList<EtcdProcess> Members => _members;

    private string StateFile => Path.Combine(Directory, "sandbox.json");

    private string PidFile => Path.Combine(Directory, "members.pid");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = settings.Value.Sandbox;
        var binary = EtcdBinary.Find(options.EtcdBinary) ?? throw new SandboxException(
            $"The sandbox cluster needs the '{options.EtcdBinary}' binary, which was not found. {char.ToUpperInvariant(EtcdBinary.InstallHint[0])}{EtcdBinary.InstallHint[1..]}, or set Console:Sandbox:Enabled=false.");

        System.IO.Directory.CreateDirectory(Directory);
        ReapOrphans();
        var state = LoadOrCreateState(options.Members);
        var layouts = state.Members.Select(m => new EtcdMemberLayout(m.Name, m.ClientPort, m.PeerPort, Path.Combine(Directory, m.Name))).ToList();
        var busy = layouts.SelectMany(l => new[] { l.ClientPort, l.PeerPort }).Where(p => !FreePorts.IsFree(p)).ToList();
        if (busy.Count > 0)
        {
            throw new SandboxException(
                $"The sandbox cluster's ports {string.Join(", ", busy)} (remembered in {StateFile}) are in use by another process. Stop that process, or delete {Directory} to start a fresh sandbox on new ports.");
        }

        var initialCluster = EtcdMemberLayout.InitialCluster(layouts);
        _launch = (binary, initialCluster, state.Token);
        foreach (var layout in layouts)
        {
            _members.Add(EtcdProcess.Start(binary, layout, initialCluster, state.Token));
        }

        await WritePidFileAsync(cancellationToken).ConfigureAwait(false);

        var spec = new ClusterSpec(
            ClusterName.Parse(ConsoleSettingsValidator.SandboxClusterName),
            [.. layouts.Select(l => l.ClientUrl)],
            null,
            null,
            [.. layouts.Select(l => new MemberSpec(l.Name, l.PeerUrl, l.DataDir, MemberControl.Managed))])
        {
            IsSandbox = true,

            // Backed up hourly to the local store, so a newcomer sees scheduling, records and retention at work.
            Backup = new BackupPolicy(true, TimeSpan.FromHours(1), null, false, new Domain.Backups.RetentionPolicy(24, null), [.. options.Backup.Targets])
            {
                Sealing = ClusterSpecParser.Sealing(options.Backup.Compression, options.Backup.Encryption),
                Continuous = ClusterSpecParser.Continuous(options.Backup.Continuous),
                Drill = ClusterSpecParser.Drill(options.Backup.Drill),
            },
            Recovery = ClusterSpecParser.Recovery(options.Recovery),
        };
        var client = clients.For(spec);
        await WaitForLeaderAsync(client, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);

        if (!state.Seeded && options.SeedKeys > 0)
        {
            await SandboxSeed.WriteAsync(client, layouts[0].ClientUrl, options.SeedKeys, cancellationToken).ConfigureAwait(false);
            SaveState(state with { Seeded = true });
        }

        catalog.Register(spec);
        var endpoints = string.Join(", ", layouts.Select(l => l.ClientUrl));
        LogStarted(logger, layouts.Count, endpoints, Directory);
    }

    /// <summary>Stops one member (a restore's "stop members" step). Returns false if it is not one of ours.</summary>
    public async Task<bool> StopMemberAsync(string name, CancellationToken cancellationToken)
    {
        var member = _members.Find(m => m.Layout.Name == name);
        if (member is null)
        {
            return false;
        }

        await member.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return true;
    }

    /// <summary>Starts one member again on its ports and data dir (which may have been restored meanwhile).</summary>
    public async Task<bool> StartMemberAsync(string name, CancellationToken cancellationToken)
    {
        var index = _members.FindIndex(m => m.Layout.Name == name);
        if (index < 0 || _launch is not { } launch)
        {
            return false;
        }

        var old = _members[index];
        if (!old.HasExited)
        {
            return true;
        }

        await old.DisposeAsync().ConfigureAwait(false);
        _members[index] = EtcdProcess.Start(launch.Binary, old.Layout, launch.InitialCluster, launch.Token);
        await WritePidFileAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public bool IsRunning(string name) => _members.Find(m => m.Layout.Name == name) is { HasExited: false };

    private Task WritePidFileAsync(CancellationToken cancellationToken) =>
        File.WriteAllLinesAsync(PidFile, _members.Where(m => !m.HasExited).Select(m => m.Pid.ToString(CultureInfo.InvariantCulture)), cancellationToken);

    /// <summary>
    /// Stops every member within a bound: SIGTERM, SIGKILL after <see cref="ShutdownBudget.MemberGrace"/> (sooner when
    /// the host's shutdown time is up), then at most <see cref="ShutdownBudget.AfterKill"/> more. A member that outlives
    /// even SIGKILL (stuck in the kernel) stays in the pid file, for the next start to stop, instead of holding the console.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        // Stopping twice at once (the host and a disposal racing) would walk the member list while the other clears it:
        // the second caller waits for the first stop instead.
        lock (_members)
        {
            return _stopping ??= StopMembersInOrderAsync(cancellationToken);
        }
    }

    private async Task StopMembersInOrderAsync(CancellationToken cancellationToken)
    {
        using var graceful = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        graceful.CancelAfter(ShutdownBudget.MemberGrace);
        using var followersFirst = CancellationTokenSource.CreateLinkedTokenSource(graceful.Token);
        followersFirst.CancelAfter(ShutdownBudget.MemberGrace / 2);

        // Followers first, then the leader: a leader stopped together with its peers spends seconds trying to hand
        // leadership to members that are shutting down; once they are gone it has no one to hand it to and stops at once.
        // A follower that takes long does not hold the leader beyond half the grace.
        var leader = await FindLeaderAsync(followersFirst.Token).ConfigureAwait(false);
        var followers = _members.Where(m => m != leader).ToList();
        var stopping = StopMembersAsync(followers, "SIGTERM", m => m.Terminate(), graceful.Token);
        try
        {
            await stopping.WaitAsync(followersFirst.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (followersFirst.IsCancellationRequested)
        {
            // Half the grace is gone: the leader's turn, while the followers go on stopping.
        }

        if (leader is not null)
        {
            stopping = Task.WhenAll(stopping, StopMembersAsync([leader], "SIGTERM", m => m.Terminate(), graceful.Token));
        }

        await stopping.ConfigureAwait(false);

        var stubborn = _members.Where(m => !m.HasExited).ToList();
        foreach (var member in stubborn)
        {
            LogKilling(logger, member.Layout.Name, member.Pid);
        }

        using var afterKill = new CancellationTokenSource(ShutdownBudget.AfterKill);
        await StopMembersAsync(stubborn, "SIGKILL", m => m.KillNow(), afterKill.Token).ConfigureAwait(false);

        var left = _members.Where(m => !m.HasExited).ToList();
        _members.Clear();
        if (left.Count == 0)
        {
            File.Delete(PidFile);
            return;
        }

        foreach (var member in left)
        {
            LogLeftBehind(logger, member.Layout.Name, member.Pid, PidFile);
        }

        await File.WriteAllLinesAsync(PidFile, left.Select(m => m.Pid.ToString(CultureInfo.InvariantCulture)), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Sends each member the signal and waits until they have all exited or the token ends the wait.</summary>
    private Task StopMembersAsync(IReadOnlyList<EtcdProcess> members, string signal, Action<EtcdProcess> send, CancellationToken cancellationToken) =>
        Task.WhenAll(members.Where(m => !m.HasExited).Select(async member =>
        {
            using var wait = shutdown?.Waiting($"sandbox member {member.Layout.Name} (pid {member.Pid}) to exit after {signal}");
            send(member);
            await member.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }));

    private async Task<EtcdProcess?> FindLeaderAsync(CancellationToken cancellationToken)
    {
        if (catalog.Find(ConsoleSettingsValidator.SandboxClusterName) is not { IsSandbox: true } spec)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        var client = clients.For(spec);
        var answers = await Task.WhenAll(_members.Where(m => !m.HasExited).Select(async member =>
        {
            try
            {
                var status = await client.StatusAsync(member.Layout.ClientUrl, timeout.Token).ConfigureAwait(false);
                return (Member: member, IsLeader: status.Leader != 0 && status.Leader == status.MemberId);
            }
            catch (Exception ex) when (ex is EtcdException or OperationCanceledException)
            {
                return (Member: member, IsLeader: false);
            }
        })).ConfigureAwait(false);
        return answers.FirstOrDefault(a => a.IsLeader).Member;
    }

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _stopping) is { } stopping)
        {
            await stopping.ConfigureAwait(false);
        }

        // Only members StopAsync never saw (a start-up that failed half-way): stopped together, each within its bound.
        await Task.WhenAll(_members.Select(m => m.DisposeAsync().AsTask())).ConfigureAwait(false);
        _members.Clear();
    }

    private async Task WaitForLeaderAsync(EtcdClusterClient client, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var last = "no answer yet";
        while (true)
        {
            if (_members.FirstOrDefault(m => m.HasExited) is { } dead)
            {
                throw new SandboxException($"sandbox member {dead.Layout.Name} exited during start-up. Its log ({dead.LogFile}) ends with:\n{dead.LogTail()}");
            }

            try
            {
                var statuses = await Task.WhenAll(_members.Select(m => client.StatusAsync(m.Layout.ClientUrl, deadline.Token))).ConfigureAwait(false);
                if (statuses.All(s => s.Leader != 0))
                {
                    return;
                }

                last = "members answer but no leader is elected yet";
            }
            catch (EtcdException ex)
            {
                last = ex.Message;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Deadline: reported below.
            }

            if (deadline.IsCancellationRequested)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new SandboxException($"the sandbox cluster did not elect a leader within {timeout.TotalSeconds:0} s: {last}");
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Kills etcd processes left behind by a console that was killed before it could stop them.</summary>
    private void ReapOrphans()
    {
        if (!File.Exists(PidFile))
        {
            return;
        }

        foreach (var line in File.ReadAllLines(PidFile))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && IsOurMember(pid))
            {
                LogReaping(logger, pid);
                EtcdProcess.KillPid(pid);
                var gone = SpinWait.SpinUntil(() => !System.IO.Directory.Exists($"/proc/{pid}"), TimeSpan.FromSeconds(10));
                if (!gone)
                {
                    throw new SandboxException($"an earlier sandbox member (pid {pid}) did not exit after SIGKILL");
                }
            }
        }

        File.Delete(PidFile);
    }

    private bool IsOurMember(int pid)
    {
        try
        {
            // Only a process whose command line names our sandbox directory: a recycled pid is left alone.
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
            return commandLine.Contains(Directory, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private SandboxState LoadOrCreateState(int memberCount)
    {
        if (File.Exists(StateFile))
        {
            var existing = JsonSerializer.Deserialize<SandboxState>(File.ReadAllText(StateFile), Json)
                ?? throw new SandboxException($"{StateFile} is empty; delete {Directory} to start a fresh sandbox");
            if (existing.Members.Count != memberCount)
            {
                LogMemberCountKept(logger, existing.Members.Count, memberCount, Directory);
            }

            return existing;
        }

        var ports = FreePorts.Pick(memberCount * 2);
        var state = new SandboxState(
            $"sandbox-{Guid.NewGuid():N}",
            [.. Enumerable.Range(0, memberCount).Select(i => new SandboxMemberState($"m{i + 1}", ports[2 * i], ports[(2 * i) + 1]))],
            Seeded: false);
        SaveState(state);
        return state;
    }

    private void SaveState(SandboxState state)
    {
        var temporary = StateFile + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(state, Json));
        File.Move(temporary, StateFile, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox cluster started: {Count} etcd members at {Endpoints}, data in {Directory}")]
    private static partial void LogStarted(ILogger logger, int count, string endpoints, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox member {Name} (pid {Pid}) did not stop after SIGTERM; sending SIGKILL")]
    private static partial void LogKilling(ILogger logger, string name, int pid);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sandbox member {Name} (pid {Pid}) is still there after SIGKILL (stuck in the kernel?); not waiting for it. It stays in {PidFile}, and the next start stops it")]
    private static partial void LogLeftBehind(ILogger logger, string name, int pid, string pidFile);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping sandbox etcd member left over from an earlier run (pid {Pid})")]
    private static partial void LogReaping(ILogger logger, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The sandbox in {Directory} has {Existing} members; Console:Sandbox:Members asks for {Wanted}. Keeping the existing cluster; delete the directory to change its size.")]
    private static partial void LogMemberCountKept(ILogger logger, int existing, int wanted, string directory);
}

internal sealed record SandboxState(string Token, IReadOnlyList<SandboxMemberState> Members, bool Seeded);

internal sealed record SandboxMemberState(string Name, int ClientPort, int PeerPort);

public sealed class SandboxException : Exception
{
    public SandboxException(string message)
        : base(message)
    {
    }

    public SandboxException()
    {
    }

    public SandboxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
