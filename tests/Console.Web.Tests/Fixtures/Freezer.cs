using System.Globalization;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// A cgroup freezer holding one process. A frozen process sits in the kernel (state D) and acts on no signal, SIGKILL
/// included, until it is thawed, as a process stuck on a hung disk does; a SIGKILL sent meanwhile ends it on thawing.
/// Needs root and the cgroup v1 freezer; tests marked <see cref="FreezerFactAttribute"/> are skipped, with the reason,
/// elsewhere. Disposing thaws the group, kills whatever is still in it and removes it.
/// </summary>
public sealed class Freezer : IDisposable
{
    private const string Root = "/sys/fs/cgroup/freezer";
    private static readonly Lazy<string?> WhyNot = new(Probe);
    private readonly string _group;

    private Freezer(string group) => _group = group;

    /// <summary>Null when processes can be frozen here, else why not.</summary>
    public static string? Unavailable => WhyNot.Value;

    /// <summary>Freezes the process and returns once the kernel reports the group frozen.</summary>
    public static async Task<Freezer> FreezeAsync(int pid)
    {
        var freezer = new Freezer(CreateGroup());
        try
        {
            await File.WriteAllTextAsync(Path.Combine(freezer._group, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            await File.WriteAllTextAsync(Path.Combine(freezer._group, "freezer.state"), "FROZEN");
            await Eventually.ValueAsync(() => File.ReadAllTextAsync(Path.Combine(freezer._group, "freezer.state")), s => s.Trim() == "FROZEN", TimeSpan.FromSeconds(30));
            return freezer;
        }
        catch
        {
            freezer.Dispose();
            throw;
        }
    }

    public void Thaw() => File.WriteAllText(Path.Combine(_group, "freezer.state"), "THAWED");

    public void Dispose()
    {
        if (!Directory.Exists(_group))
        {
            return;
        }

        Thaw();
        var procs = Path.Combine(_group, "cgroup.procs");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (File.ReadAllLines(procs).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList() is { Count: > 0 } left && DateTime.UtcNow < deadline)
        {
            foreach (var pid in left)
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
                {
                    // Gone already.
                }
            }

            Thread.Sleep(100);
        }

        Directory.Delete(_group);
    }

    private static string CreateGroup()
    {
        var group = Path.Combine(Root, $"etcd-console-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(group);
        return group;
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(Path.Combine(Root, "cgroup.procs")))
        {
            return $"the cgroup v1 freezer is not mounted at {Root}";
        }

        try
        {
            var group = CreateGroup();
            var frozen = File.Exists(Path.Combine(group, "freezer.state"));
            Directory.Delete(group);
            return frozen ? null : $"{Root} has no freezer.state";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot make a freezer group under {Root} ({ex.Message}); freezing a process needs root";
        }
    }
}

/// <summary>A fact that needs to freeze a process; skipped with the reason where the freezer cannot be used.</summary>
public sealed class FreezerFactAttribute : FactAttribute
{
    public FreezerFactAttribute()
    {
        if (Freezer.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
