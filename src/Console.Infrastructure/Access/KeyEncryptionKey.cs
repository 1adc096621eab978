using Console.Domain.Configuration;
using Console.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Access;

/// <summary>
/// The key that encrypts the sign-in key ring at rest (decision record 0024): Console:DataProtection:KeyEncryptionKey
/// (required on PostgreSQL, checked at start), or on SQLite without it a key file DataDir/keyring.key that only the
/// console's user may read, made on first use. Never logged or shown.
/// </summary>
public sealed class KeyEncryptionKey(IOptions<ConsoleSettings> settings)
{
    public const string FileName = "keyring.key";
    public const int Length = 32;

    private readonly Lazy<byte[]> _key = new(() => Load(settings.Value), LazyThreadSafetyMode.ExecutionAndPublication);

    internal byte[] Bytes => _key.Value;

    /// <summary>Where the key comes from, for messages: the setting or the file (never the key itself).</summary>
    public string Source => string.IsNullOrWhiteSpace(settings.Value.DataProtection.KeyEncryptionKey)
        ? Path.Combine(Path.GetFullPath(settings.Value.DataDir), FileName)
        : "Console:DataProtection:KeyEncryptionKey";

    private static byte[] Load(ConsoleSettings settings)
    {
        if (settings.DataProtection.KeyEncryptionKey is { } text && !string.IsNullOrWhiteSpace(text))
        {
            return Convert.FromBase64String(text.Trim()); // its shape was validated at start
        }

        // Start-up validation refuses postgres without a key: replicas cannot share a file.
        var path = Path.Combine(Path.GetFullPath(settings.DataDir), FileName);
        return ReadOrCreate(path);
    }

    private static byte[] ReadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(Length);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                // Created with the mode, not chmod-ed afterwards: the key is never readable by others, not even briefly.
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                using var file = new FileStream(path, options);
                using (var writer = new StreamWriter(file))
                {
                    writer.WriteLine(Convert.ToBase64String(key));
                    writer.Flush();
                    file.Flush(flushToDisk: true);
                }

                return key;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Made meanwhile by another thread: read that one.
            }
        }

        var bytes = new byte[Length + 1];
        return Convert.TryFromBase64String(File.ReadAllText(path).Trim(), bytes, out var written) && written == Length
            ? bytes[..Length]
            : throw new DatabaseUnavailableException(
                $"{path} (the key that encrypts the sign-in key ring) is not the base64 of {Length} bytes; the console did not start. "
                + "Restore it from a backup of the data dir, or move it aside together with the key ring (everyone signs in again).");
    }
}
