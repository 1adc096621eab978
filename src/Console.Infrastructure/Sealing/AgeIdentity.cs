using System.Security.Cryptography;
using X25519 = Org.BouncyCastle.Math.EC.Rfc7748.X25519;

namespace Console.Infrastructure.Sealing;

/// <summary>
/// An age X25519 identity (private key, "AGE-SECRET-KEY-1…"). It opens sealed copies; it is never logged, rendered
/// or stored by the console, so <see cref="ToString"/> shows the recipient, not the secret.
/// </summary>
public sealed class AgeIdentity
{
    private const string Hrp = "AGE-SECRET-KEY-";
    private readonly byte[] _secret;

    private AgeIdentity(byte[] secret)
    {
        _secret = secret;
        var publicKey = new byte[AgeRecipient.KeySize];
        X25519.ScalarMultBase(secret, 0, publicKey, 0);
        Recipient = AgeRecipient.FromPublicKey(publicKey);
    }

    public AgeRecipient Recipient { get; }

    public static AgeIdentity Generate()
    {
        var secret = new byte[AgeRecipient.KeySize];
        RandomNumberGenerator.Fill(secret);
        return new AgeIdentity(secret);
    }

    /// <summary>
    /// Reads age-keygen's format: '#' comments, blank lines, one "AGE-SECRET-KEY-1…" per line. Errors name the line
    /// number, never the line (it may be a secret with a typo).
    /// </summary>
    public static IReadOnlyList<AgeIdentity> ParseFile(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var identities = new List<AgeIdentity>();
        var number = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            number++;
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            if (!TryParse(line, out var identity, out var error))
            {
                throw new FormatException($"line {number} is not an age X25519 identity (AGE-SECRET-KEY-1…): {error}");
            }
            identities.Add(identity);
        }
        if (identities.Count == 0)
        {
            throw new FormatException("no age identity (AGE-SECRET-KEY-1…) found");
        }
        return identities;
    }

    /// <summary><see cref="ParseFile"/> over a file, with the path in errors.</summary>
    public static IReadOnlyList<AgeIdentity> ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"the age identity file {path} cannot be read: {e.Message}", e);
        }
        try
        {
            return ParseFile(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"the age identity file {path}: {e.Message}", e);
        }
    }

    /// <summary>The secret in age's own encoding, for key generation and tests only.</summary>
    public string ToSecretString() => Bech32.Encode(Hrp, _secret).ToUpperInvariant();

    public override string ToString() => $"age identity for {Recipient.Text}";

    private static bool TryParse(string text, out AgeIdentity identity, out string error)
    {
        identity = null!;
        if (!Bech32.TryDecode(text, out var hrp, out var secret, out error))
        {
            return false;
        }
        if (!string.Equals(hrp, Hrp, StringComparison.Ordinal))
        {
            CryptographicOperations.ZeroMemory(secret);
            error = string.Equals(hrp, Hrp, StringComparison.OrdinalIgnoreCase) ? "must be written in upper case" : "wrong prefix";
            return false;
        }
        if (secret.Length != AgeRecipient.KeySize)
        {
            CryptographicOperations.ZeroMemory(secret);
            error = $"the key is {secret.Length} bytes, not {AgeRecipient.KeySize}";
            return false;
        }
        identity = new AgeIdentity(secret);
        return true;
    }

    /// <summary>
    /// Tries to unwrap an X25519 stanza's file key: false when it was not sealed to this identity; throws when the
    /// share is a low-order point (the spec says abort).
    /// </summary>
    internal bool TryUnwrap(byte[] share, ReadOnlySpan<byte> body, Span<byte> fileKey)
    {
        var shared = new byte[AgeRecipient.KeySize];
        Span<byte> wrapKey = stackalloc byte[32];
        try
        {
            if (!X25519.CalculateAgreement(_secret, 0, share, 0, shared, 0))
            {
                throw new AgeException("the age header is malformed: an X25519 stanza has a low-order ephemeral share");
            }
            AgeRecipient.DeriveWrapKey(shared, share, Recipient.PublicKey, wrapKey);
            using var aead = new ChaCha20Poly1305(wrapKey);
            try
            {
                aead.Decrypt(AgeRecipient.WrapNonce, body[..AgeFormat.FileKeySize], body[AgeFormat.FileKeySize..], fileKey);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                return false;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
            CryptographicOperations.ZeroMemory(wrapKey);
        }
    }
}
