using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Console.Infrastructure.Storage;

/// <summary>
/// Opens and inspects files in a store without following symbolic links and without touching special files. The
/// console may run as root, and anyone who can write to the snapshot directory could otherwise plant a link named like
/// a snapshot that points at /etc/shadow or at the console's own database (reading that from inside the console drops
/// SQLite's POSIX locks, which is how its WAL got deleted), or a fifo that hangs the reader. .NET cannot open with
/// O_NOFOLLOW nor tell a fifo from a regular file, hence open(2) and statx(2) here. Decision record 0009.
/// </summary>
internal static unsafe partial class RegularFile
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1;
    private const int StatxModeOffset = 28;
    private const int TypeMask = 0xF000;
    private const int Regular = 0x8000;
    private const int ReadOnly = 0;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000;
    private const int GetFlags = 3;
    private const int SetFlags = 4;
    private const int NoSuchFile = 2;
    private const int TooManyLinks = 40; // ELOOP: the last component is a symbolic link
    private const int LockShared = 1;
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;

    // O_NOFOLLOW is 0400000 on x86-64 but 0100000 on arm64 (where O_DIRECTORY and O_NOFOLLOW trade places).
    private static readonly int NoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    /// <summary>Is <paramref name="path"/> itself a regular file (a symbolic link, even to one, is not)?</summary>
    public static bool Is(string path) => KindOf(path) == FileKind.Regular;

    /// <summary>What is at <paramref name="path"/> itself, without following a link.</summary>
    public static FileKind KindOf(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        fixed (byte* b = buffer)
        {
            if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, b) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                return errno == NoSuchFile ? FileKind.Missing : throw new IOException($"cannot inspect {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
        }

        return (BitConverter.ToUInt16(buffer[StatxModeOffset..]) & TypeMask) == Regular ? FileKind.Regular : FileKind.Other;
    }

    /// <summary>
    /// Opens a regular file for reading. A symbolic link, fifo, device, socket or directory at <paramref name="path"/> is
    /// refused with an <see cref="IOException"/>; a missing file gives <see cref="FileNotFoundException"/>. The type is
    /// checked on the opened descriptor, so swapping the file between a listing and the open gains nothing.
    /// </summary>
    public static FileStream OpenRead(string path, int bufferSize = 1 << 16)
    {
        // O_NONBLOCK so that opening a fifo returns at once instead of waiting for a writer.
        var fd = Open(path, ReadOnly | NoFollow | NonBlocking | CloseOnExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                NoSuchFile => new FileNotFoundException($"{path} does not exist", path),
                TooManyLinks => new IOException($"{path} is a symbolic link; links are never followed in a snapshot store"),
                _ => new IOException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}"),
            };
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            Span<byte> buffer = stackalloc byte[256];
            fixed (byte* b = buffer)
            {
                if (Statx(fd, string.Empty, AtEmptyPath, StatxType, b) != 0)
                {
                    throw new IOException($"cannot inspect {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                }
            }

            if ((BitConverter.ToUInt16(buffer[StatxModeOffset..]) & TypeMask) != Regular)
            {
                throw new IOException($"{path} is not a regular file (a fifo, device, socket or directory); it is never read");
            }

            // Back to blocking reads now that it is known to be a regular file.
            var flags = Fcntl(fd, GetFlags, 0);
            if (flags < 0 || Fcntl(fd, SetFlags, flags & ~NonBlocking) < 0)
            {
                throw new IOException($"cannot set up {path} for reading: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }

            return new FileStream(handle, FileAccess.Read, bufferSize);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Marks a file being written as in use (a shared <c>flock</c>, which lasts as long as the handle and ends with the
    /// process however it dies), so a console starting beside this one, on the same host or on a shared directory, can
    /// tell a live writer's <c>.part</c> from a dead one's.
    /// </summary>
    public static void MarkInUse(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (Flock(handle.DangerousGetHandle().ToInt32(), LockShared | LockNonBlocking) != 0)
        {
            throw new IOException($"cannot mark the file being written as in use: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    /// <summary>True while some process holds <paramref name="path"/> through <see cref="MarkInUse"/> (or any flock).</summary>
    public static bool IsInUse(string path)
    {
        var fd = Open(path, ReadOnly | NoFollow | NonBlocking | CloseOnExec);
        if (fd < 0)
        {
            return false;
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);

        // Taking the exclusive lock for an instant fails exactly when someone else holds any lock on the file.
        return Flock(fd, LockExclusive | LockNonBlocking) != 0;
    }

    /// <summary>Deletes <paramref name="path"/> if it is a regular file; anything else there is refused and left in place.</summary>
    public static void Delete(string path)
    {
        switch (KindOf(path))
        {
            case FileKind.Missing:
                return;
            case FileKind.Other:
                throw new IOException($"{path} is not a regular file (a symbolic link, fifo, device or directory); it is left alone");
            default:
                File.Delete(path);
                return;
        }
    }

    public enum FileKind
    {
        Missing,
        Regular,
        /// <summary>A symbolic link, fifo, device, socket or directory.</summary>
        Other,
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
