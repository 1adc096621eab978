using System.Security.Cryptography;
using Console.Infrastructure.Restore;
using Console.Infrastructure.Sealing;

namespace Console.Web.Tests.Infrastructure.Sealing;

/// <summary>Seals and opens in memory, and runs Debian's age tools with generous time limits.</summary>
internal static class AgeTestFiles
{
    public const int Chunk = 64 * 1024;
    public const int SealedChunk = Chunk + 16;

    public static byte[] RandomBytes(int size)
    {
        var data = new byte[size];
        RandomNumberGenerator.Fill(data);
        return data;
    }

    public static byte[] Seal(ReadOnlySpan<byte> plaintext, params AgeRecipient[] recipients)
    {
        using var output = new MemoryStream();
        using (var sealing = AgeFormat.Encrypt(output, recipients, leaveOpen: true))
        {
            sealing.Write(plaintext);
        }
        return output.ToArray();
    }

    public static async Task<byte[]> OpenAsync(byte[] sealedBytes, params AgeIdentity[] identities)
    {
        await using var opened = await AgeFormat.OpenAsync(new MemoryStream(sealedBytes), identities);
        using var plaintext = new MemoryStream();
        await opened.CopyToAsync(plaintext);
        return plaintext.ToArray();
    }

    /// <summary>Where the first payload chunk starts: after the MAC line and the 16-byte payload nonce.</summary>
    public static int FirstChunkOffset(byte[] sealedBytes)
    {
        var macLine = sealedBytes.AsSpan().IndexOf("\n--- "u8) + 1;
        return macLine + sealedBytes.AsSpan(macLine).IndexOf((byte)'\n') + 1 + 16;
    }

    public static async Task<string> RunAsync(string tool, params string[] arguments)
    {
        var run = await ToolProcess.RunAsync(tool, arguments, TimeSpan.FromSeconds(120), CancellationToken.None);
        Assert.False(run.TimedOut, $"{tool} timed out");
        Assert.True(run.Exit == 0, $"{tool} {string.Join(' ', arguments)} exited {run.Exit}: {run.Output}");
        return run.Output;
    }
}
