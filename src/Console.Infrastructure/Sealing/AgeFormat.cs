using System.Security.Cryptography;

namespace Console.Infrastructure.Sealing;

/// <summary>
/// The age file format (age-encryption.org/v1, c2sp.org/age) for X25519 recipients, streaming both ways, so a
/// sealed copy opens with the reference tool (<c>age -d -i key.txt</c>) without this console.
/// </summary>
public static class AgeFormat
{
    internal const int FileKeySize = 16;
    internal const int TagSize = 16;
    internal const int NonceSize = 12;
    internal const int PayloadNonceSize = 16;
    internal const int ChunkSize = 64 * 1024;
    internal const int SealedChunkSize = ChunkSize + TagSize;

    /// <summary>The first bytes of every age file: tells a sealed stream from a raw one.</summary>
    public static ReadOnlySpan<byte> Magic => "age-encryption.org/v1\n"u8;

    /// <summary>
    /// A write-only stream that seals what is written to <paramref name="recipients"/>. The header is written to
    /// <paramref name="output"/> at once; Dispose/DisposeAsync writes the final chunk (and disposes
    /// <paramref name="output"/> unless <paramref name="leaveOpen"/>).
    /// </summary>
    public static Stream Encrypt(Stream output, IReadOnlyList<AgeRecipient> recipients, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (header, stream) = Begin(output, recipients, leaveOpen);
        output.Write(header);
        return stream;
    }

    /// <summary><see cref="Encrypt"/> for outputs that must be written asynchronously.</summary>
    public static async Task<Stream> EncryptAsync(Stream output, IReadOnlyList<AgeRecipient> recipients, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (header, stream) = Begin(output, recipients, leaveOpen);
        await output.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        return stream;
    }

    /// <summary>
    /// Reads and checks the header (stanzas, MAC) and returns a read-only stream of the plaintext; each chunk is
    /// authenticated before any of its bytes are returned, and the end is only reported after a valid final chunk.
    /// </summary>
    /// <exception cref="AgeNoIdentityException">None of <paramref name="identities"/> unwraps the file key.</exception>
    /// <exception cref="AgeException">Not age, malformed, altered, truncated or followed by other data.</exception>
    public static async Task<Stream> OpenAsync(Stream input, IReadOnlyList<AgeIdentity> identities, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(identities);
        var header = await AgeHeader.ReadAsync(input, cancellationToken).ConfigureAwait(false);
        var fileKey = new byte[FileKeySize];
        try
        {
            UnwrapFileKey(header, identities, fileKey);
            VerifyMac(header, fileKey);

            // The payload nonce follows the header; part of it (or more) may have been read with the header.
            var ahead = header.Length - header.PayloadStart;
            var nonce = new byte[PayloadNonceSize];
            var have = Math.Min(ahead, PayloadNonceSize);
            header.Bytes.AsSpan(header.PayloadStart, have).CopyTo(nonce);
            while (have < PayloadNonceSize)
            {
                var read = await input.ReadAsync(nonce.AsMemory(have), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new AgeException("the copy is truncated: its payload is missing");
                }
                have += read;
            }
            var readAhead = ahead > PayloadNonceSize
                ? header.Bytes.AsSpan(header.PayloadStart + PayloadNonceSize, ahead - PayloadNonceSize)
                : [];
            return new AgeDecryptStream(input, leaveOpen, fileKey, nonce, readAhead);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(fileKey);
        }
    }

    private static (byte[] Header, Stream Stream) Begin(Stream output, IReadOnlyList<AgeRecipient> recipients, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        if (recipients.Count == 0)
        {
            throw new ArgumentException("at least one age recipient is needed", nameof(recipients));
        }
        if (!output.CanWrite)
        {
            throw new ArgumentException("the output stream is not writable", nameof(output));
        }

        var fileKey = new byte[FileKeySize];
        try
        {
            RandomNumberGenerator.Fill(fileKey);
            var stanzas = new List<AgeStanza>(recipients.Count);
            foreach (var recipient in recipients)
            {
                var (share, body) = recipient.Wrap(fileKey);
                stanzas.Add(new AgeStanza([AgeRecipient.StanzaType, AgeHeader.ToBase64(share)], body));
            }
            var covered = AgeHeader.Write(stanzas);
            Span<byte> mac = stackalloc byte[32];
            ComputeMac(fileKey, covered, mac);
            var macLine = System.Text.Encoding.ASCII.GetBytes(" " + AgeHeader.ToBase64(mac) + "\n");

            var nonce = new byte[PayloadNonceSize];
            RandomNumberGenerator.Fill(nonce);
            var header = new byte[covered.Length + macLine.Length + PayloadNonceSize];
            covered.CopyTo(header, 0);
            macLine.CopyTo(header, covered.Length);
            nonce.CopyTo(header, covered.Length + macLine.Length);
            return (header, new AgeEncryptStream(output, leaveOpen, fileKey, nonce));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(fileKey);
        }
    }

    private static void UnwrapFileKey(AgeHeader header, IReadOnlyList<AgeIdentity> identities, Span<byte> fileKey)
    {
        // The spec: reject a malformed X25519 stanza outright rather than skip it.
        var x25519 = new List<(byte[] Share, byte[] Body)>();
        foreach (var stanza in header.Stanzas)
        {
            if (!string.Equals(stanza.Arguments[0], AgeRecipient.StanzaType, StringComparison.Ordinal))
            {
                continue; // another recipient type: not ours to judge
            }
            if (stanza.Arguments.Count != 2
                || !AgeHeader.TryFromBase64(System.Text.Encoding.ASCII.GetBytes(stanza.Arguments[1]), out var share)
                || share.Length != AgeRecipient.KeySize)
            {
                throw new AgeException("the age header is malformed: an X25519 stanza has a bad ephemeral share");
            }
            if (stanza.Body.Length != AgeRecipient.WrappedKeySize)
            {
                throw new AgeException("the age header is malformed: an X25519 stanza body is not 32 bytes");
            }
            x25519.Add((share, stanza.Body));
        }

        foreach (var (share, body) in x25519)
        {
            foreach (var identity in identities)
            {
                if (identity.TryUnwrap(share, body, fileKey))
                {
                    return;
                }
            }
        }
        throw new AgeNoIdentityException(identities.Count, x25519.Count);
    }

    private static void VerifyMac(AgeHeader header, ReadOnlySpan<byte> fileKey)
    {
        Span<byte> mac = stackalloc byte[32];
        ComputeMac(fileKey, header.Bytes.AsSpan(0, header.MacCoverage), mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, header.Mac))
        {
            throw new AgeException("the header was altered (MAC mismatch)");
        }
    }

    private static void ComputeMac(ReadOnlySpan<byte> fileKey, ReadOnlySpan<byte> covered, Span<byte> mac)
    {
        Span<byte> macKey = stackalloc byte[32];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, fileKey, macKey, [], "header"u8);
            HMACSHA256.HashData(macKey, covered, mac);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(macKey);
        }
    }

    /// <summary>The payload key: HKDF-SHA-256(file key, salt = payload nonce, info = "payload").</summary>
    internal static byte[] PayloadKey(ReadOnlySpan<byte> fileKey, ReadOnlySpan<byte> nonce)
    {
        var key = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, fileKey, key, nonce, "payload"u8);
        return key;
    }

    /// <summary>The STREAM nonce: 11-byte big-endian chunk counter, then 1 on the final chunk, else 0.</summary>
    internal static void ChunkNonce(Span<byte> nonce, ulong counter, bool last)
    {
        nonce[..3].Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(nonce[3..11], counter);
        nonce[11] = last ? (byte)1 : (byte)0;
    }
}
