using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Console.Infrastructure.Sandbox;

/// <summary>Where one etcd member listens and keeps its data.</summary>
public sealed record EtcdMemberLayout(string Name, int ClientPort, int PeerPort, string DataDir, string ClientScheme = "http")
{
    public Uri ClientUrl => new($"{ClientScheme}://127.0.0.1:{ClientPort.ToString(CultureInfo.InvariantCulture)}");

    public Uri PeerUrl => new($"http://127.0.0.1:{PeerPort.ToString(CultureInfo.InvariantCulture)}");

    public static string InitialCluster(IEnumerable<EtcdMemberLayout> members) =>
        string.Join(',', members.Select(m => $"{m.Name}={m.PeerUrl.ToString().TrimEnd('/')}"));
}

/// <summary>
/// One etcd member process on loopback. Its log goes to a file beside its data dir; stopping sends SIGTERM and
/// escalates to SIGKILL after a grace period.
/// </summary>
public sealed partial class EtcdProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private const int SigKill = 9;
    private const int SigStop = 19;
    private const int SigCont = 18;
    private readonly Process _process;

    private EtcdProcess(Process process, EtcdMemberLayout layout, string logFile)
    {
        _process = process;
        Layout = layout;
        LogFile = logFile;
    }

    public EtcdMemberLayout Layout { get; }

    public string LogFile { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts a member of the cluster described by <paramref name="initialCluster"/>. When the data dir
    /// already holds a member, etcd ignores the initial-cluster flags and rejoins with its stored identity.</summary>
    public static EtcdProcess Start(string binary, EtcdMemberLayout layout, string initialCluster, string token, IEnumerable<string>? extraArguments = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(layout.DataDir))!);
        var logFile = Path.GetFullPath(layout.DataDir) + ".log";
        var client = layout.ClientUrl.ToString().TrimEnd('/');
        var peer = layout.PeerUrl.ToString().TrimEnd('/');
        var info = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in new[]
        {
            "--name", layout.Name,
            "--data-dir", layout.DataDir,
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", initialCluster,
            "--initial-cluster-token", token,
            "--initial-cluster-state", "new",
            "--logger", "zap",
            "--log-outputs", logFile,
        }.Concat(extraArguments ?? []))
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {binary}");

        // Nothing is written there (logs go to the file) but the pipes must be drained so etcd never blocks on them.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new EtcdProcess(process, layout, logFile);
    }

    /// <summary>The last lines of the member's log, for error messages.</summary>
    public string LogTail(int lines = 8)
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <summary>
    /// SIGTERM, then SIGKILL after <paramref name="grace"/>. True once the process has exited; false when it outlives
    /// even SIGKILL by <paramref name="afterKill"/> (default 5 s), as a process stuck in the kernel does.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan grace, TimeSpan? afterKill = null)
    {
        if (_process.HasExited)
        {
            return true;
        }

        Terminate();
        using (var timeout = new CancellationTokenSource(grace))
        {
            if (await WaitForExitAsync(timeout.Token).ConfigureAwait(false))
            {
                return true;
            }
        }

        KillNow();
        using var killTimeout = new CancellationTokenSource(afterKill ?? TimeSpan.FromSeconds(5));
        return await WaitForExitAsync(killTimeout.Token).ConfigureAwait(false);
    }

    /// <summary>SIGTERM (after SIGCONT, so a paused member can act on it): etcd stops cleanly.</summary>
    public void Terminate()
    {
        Signal(_process.Id, SigCont);
        Signal(_process.Id, SigTerm);
    }

    /// <summary>SIGKILL, without waiting.</summary>
    public void KillNow() => Signal(_process.Id, SigKill);

    /// <summary>True once the process has exited; false if <paramref name="cancellationToken"/> ends the wait first.</summary>
    public async Task<bool> WaitForExitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return _process.HasExited;
        }
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>
    /// SIGSTOP: the process stays alive but answers nothing (a hung member). kill(2) returns before the group stop
    /// completes (one thread is woken to start it; on a busy machine others run on for a while), so this waits until
    /// every thread of the process is stopped.
    /// </summary>
    public void Pause()
    {
        Signal(_process.Id, SigStop);
        var stopped = SpinWait.SpinUntil(AllThreadsStopped, TimeSpan.FromSeconds(10));
        if (!stopped)
        {
            throw new InvalidOperationException($"etcd member {Layout.Name} (pid {Pid}) did not stop within 10 s of SIGSTOP");
        }
    }

    private bool AllThreadsStopped()
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{_process.Id}/task")
                .All(task => ThreadState(File.ReadAllText(Path.Combine(task, "stat"))) is 'T' or 't' or 'Z' or 'X');
        }
        catch (IOException)
        {
            return true; // gone
        }
    }

    /// <summary>The state letter of /proc/.../stat: the field after the parenthesised command name.</summary>
    private static char ThreadState(string stat) => stat[(stat.LastIndexOf(')') + 2)..][0];

    public void Resume() => Signal(_process.Id, SigCont);

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _process.Dispose();
    }

    internal static void KillPid(int pid) => Signal(pid, SigKill);

    private static void Signal(int pid, int signal)
    {
        if (sys_kill(pid, signal) != 0)
        {
            // ESRCH: already gone. Anything else is not worth failing a stop over.
            _ = Marshal.GetLastPInvokeError();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int sys_kill(int pid, int signal);
}
