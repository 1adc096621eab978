using System.Diagnostics;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// A real, small tmpfs mounted on a directory, to fill a disk for real. Needs root (the tests run as root here);
/// tests marked <see cref="TmpfsFactAttribute"/> are skipped, with the reason, where mounting is not permitted.
/// Disposing unmounts it.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    private static readonly Lazy<string?> WhyNot = new(Probe);

    private Tmpfs(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>Bytes free on the mount now.</summary>
    public long FreeBytes => new DriveInfo(Directory).AvailableFreeSpace;

    /// <summary>Null when tmpfs can be mounted here, else why not.</summary>
    public static string? Unavailable => WhyNot.Value;

    public static Tmpfs Mount(string directory, int mebibytes)
    {
        System.IO.Directory.CreateDirectory(directory);
        var (exit, output) = Run("mount", "-t", "tmpfs", "-o", $"size={mebibytes}m,mode=0755", "tmpfs", directory);
        return exit == 0 ? new Tmpfs(directory) : throw new InvalidOperationException($"mount -t tmpfs on {directory} failed (exit {exit}): {output}");
    }

    /// <summary>Writes a file named <paramref name="fileName"/> until the disk refuses, and returns how many bytes went in.</summary>
    public long FillUp(string fileName)
    {
        var file = Path.Combine(Directory, fileName);
        var chunk = new byte[64 * 1024];
        long written = 0;
        try
        {
            using var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
            while (true)
            {
                stream.Write(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            // The disk is full, with a little less than a chunk possibly left: fill that too.
        }

        try
        {
            using var stream = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.None, 1);
            while (true)
            {
                stream.Write(chunk.AsSpan(0, 512));
                written += 512;
            }
        }
        catch (IOException)
        {
        }

        return written;
    }

    public void Dispose()
    {
        // A process of ours may hold a file there for a moment: retry, then detach lazily so the mount never outlives the test.
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (Run("umount", Directory).Exit == 0)
            {
                return;
            }

            Thread.Sleep(200);
        }

        Run("umount", "-l", Directory);
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "tmpfs needs Linux";
        }

        var probe = Path.Combine(Path.GetTempPath(), "etcd-console-tests", $"tmpfs-probe-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(probe);
        try
        {
            var (exit, output) = Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe);
            if (exit != 0)
            {
                return $"mounting a tmpfs is not permitted here (mount exit {exit}: {output.Trim()}); the full-disk tests need root";
            }

            Run("umount", probe);
            return null;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"mount cannot be run: {ex.Message}";
        }
        finally
        {
            try
            {
                System.IO.Directory.Delete(probe);
            }
            catch (IOException)
            {
            }
        }
    }

    private static (int Exit, string Output) Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.GetAwaiter().GetResult());
    }
}

/// <summary>A fact that needs a real tmpfs mount; skipped with the reason where mounting is not permitted.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
