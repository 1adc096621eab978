using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using X25519 = Org.BouncyCastle.Math.EC.Rfc7748.X25519;

namespace Console.Infrastructure.Sealing;

/// <summary>An age X25519 recipient: the public key a copy is sealed to, written "age1…".</summary>
public sealed class AgeRecipient
{
    internal const string StanzaType = "X25519";
    internal const int KeySize = 32;
    internal const int WrappedKeySize = AgeFormat.FileKeySize + AgeFormat.TagSize;
    private const string Hrp = "age";
    private static readonly byte[] WrapInfo = "age-encryption.org/v1/X25519"u8.ToArray();
    private readonly byte[] _publicKey;

    private AgeRecipient(byte[] publicKey)
    {
        _publicKey = publicKey;
        Text = Bech32.Encode(Hrp, publicKey);
        Fingerprint = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16];
    }

    /// <summary>The canonical lower-case "age1…" form.</summary>
    public string Text { get; }

    /// <summary>"sha256:" and the first 16 hex digits of SHA-256 over the public key: names a recipient in records.</summary>
    public string Fingerprint { get; }

    internal ReadOnlySpan<byte> PublicKey => _publicKey;

    public static bool TryParse(string? text, [NotNullWhen(true)] out AgeRecipient? recipient, out string error)
    {
        recipient = null;
        const string What = "not an age X25519 recipient (age1…)";
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            error = $"{What}: empty";
            return false;
        }
        if (!Bech32.TryDecode(trimmed, out var hrp, out var key, out var decodeError))
        {
            error = $"{What}: {decodeError}";
            return false;
        }
        if (!string.Equals(hrp, Hrp, StringComparison.Ordinal))
        {
            error = string.Equals(hrp, Hrp, StringComparison.OrdinalIgnoreCase)
                ? $"{What}: must be written in lower case"
                : $"{What}: the prefix is \"{hrp}\"";
            return false;
        }
        if (key.Length != KeySize)
        {
            error = $"{What}: the key is {key.Length} bytes, not {KeySize}";
            return false;
        }
        recipient = new AgeRecipient(key);
        error = "";
        return true;
    }

    /// <summary>Parses a recipient the caller knows to be valid (tests, configuration already validated).</summary>
    public static AgeRecipient Parse(string text) =>
        TryParse(text, out var recipient, out var error) ? recipient : throw new FormatException(error);

    internal static AgeRecipient FromPublicKey(byte[] publicKey) => new(publicKey);

    public override string ToString() => Text;

    /// <summary>Wraps the file key for this recipient: a fresh ephemeral key per stanza, as the spec requires.</summary>
    internal (byte[] Share, byte[] Body) Wrap(ReadOnlySpan<byte> fileKey)
    {
        var ephemeral = new byte[KeySize];
        var share = new byte[KeySize];
        var shared = new byte[KeySize];
        try
        {
            RandomNumberGenerator.Fill(ephemeral);
            X25519.ScalarMultBase(ephemeral, 0, share, 0);
            if (!X25519.CalculateAgreement(ephemeral, 0, _publicKey, 0, shared, 0))
            {
                throw new CryptographicException($"the age recipient {Text} is a low-order point and cannot be used");
            }
            var body = new byte[WrappedKeySize];
            Span<byte> wrapKey = stackalloc byte[32];
            try
            {
                DeriveWrapKey(shared, share, _publicKey, wrapKey);
                using var aead = new ChaCha20Poly1305(wrapKey);
                aead.Encrypt(WrapNonce, fileKey, body.AsSpan(0, AgeFormat.FileKeySize), body.AsSpan(AgeFormat.FileKeySize));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(wrapKey);
            }
            return (share, body);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ephemeral);
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>The stanza body's ChaCha20-Poly1305 nonce: fixed, all zero (each wrap key is used once).</summary>
    internal static ReadOnlySpan<byte> WrapNonce => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The X25519 wrap key: HKDF-SHA-256 of the shared secret, salt = ephemeral share || recipient.</summary>
    internal static void DeriveWrapKey(ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> share, ReadOnlySpan<byte> recipient, Span<byte> wrapKey)
    {
        Span<byte> salt = stackalloc byte[2 * KeySize];
        share.CopyTo(salt);
        recipient.CopyTo(salt[KeySize..]);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, sharedSecret, wrapKey, salt, WrapInfo);
    }
}
