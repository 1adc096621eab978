namespace Console.Infrastructure.Sealing;

/// <summary>A sealed copy cannot be opened: not age, altered, truncated, or sealed to other keys. The message says which.</summary>
public class AgeException : IOException
{
    public AgeException()
    {
    }

    public AgeException(string message) : base(message)
    {
    }

    public AgeException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>None of the configured identities unwraps the file key: the copy was sealed to other recipients.</summary>
public sealed class AgeNoIdentityException : AgeException
{
    public AgeNoIdentityException()
    {
    }

    public AgeNoIdentityException(string message) : base(message)
    {
    }

    public AgeNoIdentityException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public AgeNoIdentityException(int identities, int x25519Stanzas) : base(Describe(identities, x25519Stanzas))
    {
        Identities = identities;
        X25519Stanzas = x25519Stanzas;
    }

    /// <summary>How many identities were tried.</summary>
    public int Identities { get; }

    /// <summary>How many X25519 recipients the copy was sealed to (age headers do not say which ones).</summary>
    public int X25519Stanzas { get; }

    private static string Describe(int identities, int stanzas)
    {
        var sealedTo = stanzas switch
        {
            0 => "it has no X25519 recipients",
            1 => "it has 1 X25519 recipient",
            _ => $"it has {stanzas} X25519 recipients",
        };
        return identities switch
        {
            0 => $"no age identity is configured to open this copy ({sealedTo})",
            1 => $"the configured identity does not open this copy ({sealedTo})",
            _ => $"none of the {identities} configured identities opens this copy ({sealedTo})",
        };
    }
}
