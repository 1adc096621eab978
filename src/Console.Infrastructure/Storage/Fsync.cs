using System.Runtime.InteropServices;

namespace Console.Infrastructure.Storage;

/// <summary>fsync of a directory, so a rename inside it survives a power cut. .NET cannot open a directory as a file.</summary>
internal static partial class Fsync
{
    private const int ReadOnly = 0;
    private const int Directory = 0x10000; // O_DIRECTORY on Linux

    public static void DirectoryOf(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var fd = Open(directory, ReadOnly | Directory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (FsyncFd(fd) != 0)
            {
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Starts writing the file's dirty pages back to disk without waiting for them (Linux sync_file_range with
    /// SYNC_FILE_RANGE_WRITE). Called while a snapshot streams, so the fsync at the end finds little left to write
    /// instead of the whole snapshot. Only a hint: failures are ignored, the closing fsync reports real ones.
    /// </summary>
    public static void StartWriteback(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        if (OperatingSystem.IsLinux())
        {
            _ = SyncFileRange(file, 0, 0, SyncFileRangeWrite);
        }
    }

    private const uint SyncFileRangeWrite = 2;

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(Microsoft.Win32.SafeHandles.SafeFileHandle fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncFd(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
