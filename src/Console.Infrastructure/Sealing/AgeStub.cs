// TEMPORARY: the age helper's contract, so the codec layer compiles before its branch is merged. Deleted on merge.
using System.Diagnostics.CodeAnalysis;

namespace Console.Infrastructure.Sealing;

#pragma warning disable CA1822, CA1024, CA1032, CA1064, CA1034, IDE0060
public sealed class AgeRecipient
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out AgeRecipient? recipient, out string error) => throw new NotImplementedException();
    public string Text => throw new NotImplementedException();
    public string Fingerprint => throw new NotImplementedException();
}

public sealed class AgeIdentity
{
    public static IReadOnlyList<AgeIdentity> ParseFile(string text) => throw new NotImplementedException();
    public static IReadOnlyList<AgeIdentity> ReadFile(string path) => throw new NotImplementedException();
    public static AgeIdentity Generate() => throw new NotImplementedException();
    public string ToSecretString() => throw new NotImplementedException();
    public AgeRecipient Recipient => throw new NotImplementedException();
}

public static class AgeFormat
{
    public static ReadOnlySpan<byte> Magic => "age-encryption.org/v1\n"u8;
    public static Stream Encrypt(Stream output, IReadOnlyList<AgeRecipient> recipients, bool leaveOpen = false) => throw new NotImplementedException();
    public static Task<Stream> OpenAsync(Stream input, IReadOnlyList<AgeIdentity> identities, bool leaveOpen = false, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}

public class AgeException(string message) : IOException(message);

public sealed class AgeNoIdentityException(string message) : AgeException(message)
{
    public int X25519Stanzas { get; }
}
#pragma warning restore CA1822, CA1024, CA1032, CA1064, CA1034, IDE0060
