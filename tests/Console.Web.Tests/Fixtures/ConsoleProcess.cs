using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// The console as an operator runs it: 'dotnet Console.Web.dll' in its own process, configured by environment
/// variables. Used where the behaviour lives in the process itself (exit codes, signals, start-up errors).
/// </summary>
public sealed partial class ConsoleProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private ConsoleProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_output) { _output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_error) { _error.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public string Output { get { lock (_output) { return _output.ToString(); } } }

    public string Error { get { lock (_error) { return _error.ToString(); } } }

    /// <param name="arguments">After the dll: none to run the console, or a command such as copy-state.</param>
    public static ConsoleProcess Start(IReadOnlyDictionary<string, string> environment, IReadOnlyList<string>? arguments = null)
    {
        var dll = typeof(Program).Assembly.Location;
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments ?? [])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Information";

        // Re-reading every stored copy at start would add verifications the tests did not ask for; the tests of the
        // re-verification turn it back on.
        info.Environment["Console__Verification__Every"] = "off";
        foreach (var (key, value) in DrillsOff.Apply(environment.Select(e => new KeyValuePair<string, string?>(e.Key, e.Value)), "__"))
        {
            info.Environment[key] = value;
        }

        return new ConsoleProcess(Process.Start(info)!);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // The log says what shutdown was still waiting for.
            throw new TimeoutException($"the console did not exit within {timeout}:\n{Output}\n{Error}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits until the output contains <paramref name="text"/>, failing early if the process exits.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the console exited ({_process.ExitCode}) before printing \"{text}\":\n{Output}\n{Error}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the console did not print \"{text}\" within {timeout}:\n{Output}\n{Error}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>SIGINT, as Ctrl+C in a terminal.</summary>
    public void Interrupt() => _ = sys_kill(_process.Id, 2);

    /// <summary>SIGKILL, as a crash or the OOM killer would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int sys_kill(int pid, int signal);
}
