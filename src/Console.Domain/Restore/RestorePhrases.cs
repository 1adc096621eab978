namespace Console.Domain.Restore;

/// <summary>What an operator must type to let each destructive step run. Anything else does nothing.</summary>
public static class RestorePhrases
{
    public const string ProceedWithoutSafetySnapshot = "proceed without safety snapshot";

    public static string StopMembers(string cluster) => cluster;

    public static string RestoreData(string cluster) => $"restore {cluster}";

    /// <summary>Exact match only (no trimming or case folding): a confirmation is deliberate or it is not one.</summary>
    public static bool Matches(string expected, string? typed) => string.Equals(expected, typed, StringComparison.Ordinal);
}
