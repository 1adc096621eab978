namespace Console.Domain.Clusters;

/// <summary>
/// A cluster's name: it appears in URLs and snapshot file names, so it is restricted to
/// lower-case letters, digits and '-', starts with a letter or digit, and is at most 63 characters.
/// </summary>
public readonly record struct ClusterName
{
    public const int MaxLength = 63;

    private ClusterName(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? text, out ClusterName name, out string error)
    {
        name = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "a cluster name is required";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"cluster name '{text}' is longer than {MaxLength} characters";
            return false;
        }

        if (!char.IsAsciiLetterOrDigit(text[0]) || !text.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            error = $"cluster name '{text}' may contain only lower-case letters, digits and '-', and must start with a letter or digit";
            return false;
        }

        name = new ClusterName(text);
        error = string.Empty;
        return true;
    }

    public static ClusterName Parse(string text) =>
        TryParse(text, out var name, out var error) ? name : throw new FormatException(error);

    public override string ToString() => Value ?? string.Empty;
}
