using System.Text.RegularExpressions;

namespace Console.Web.Tests.Fixtures;

/// <summary>
/// Restore drills are on by default (an etcd started after every backup); tests that are not about drills turn them off
/// for every cluster they configure and for the sandbox, so the suite does not pay for them. A test that sets a
/// cluster's Drill:Enabled itself keeps its value.
/// </summary>
public static partial class DrillsOff
{
    /// <param name="separator">":" for configuration keys, "__" for environment variables.</param>
    public static Dictionary<string, string?> Apply(IEnumerable<KeyValuePair<string, string?>> settings, string separator)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var result = new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase);
        var prefixes = result.Keys
            .Select(k => ClusterKey().Match(k.Replace(separator, ":", StringComparison.Ordinal)))
            .Where(m => m.Success)
            .Select(m => m.Groups["prefix"].Value)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        foreach (var prefix in prefixes.Append("Console:Sandbox"))
        {
            result.TryAdd(string.Join(separator, $"{prefix}:Backup:Drill:Enabled".Split(':')), "false");
        }

        return result;
    }

    [GeneratedRegex(@"^(?<prefix>(Console:)?Clusters:\d+):Name$", RegexOptions.IgnoreCase)]
    private static partial Regex ClusterKey();
}
