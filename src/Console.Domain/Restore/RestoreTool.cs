using System.Globalization;

namespace Console.Domain.Restore;

/// <summary>The tool that restores a snapshot into a data dir: etcdctl up to 3.5, etcdutl from 3.5 (and only it from 3.6).</summary>
public sealed record RestoreTool(string Name, Version Version)
{
    /// <summary>--bump-revision and --mark-compacted exist from 3.4.27 and 3.5.10 (etcd PR #16029).</summary>
    public bool SupportsRevisionBump => Version.Major > 3
        || (Version.Major == 3 && Version.Minor >= 6)
        || (Version.Major == 3 && Version.Minor == 5 && Version.Build >= 10)
        || (Version.Major == 3 && Version.Minor == 4 && Version.Build >= 27);

    /// <summary>
    /// How far revisions are bumped: 1,000,000,000 covers about a week at 1,500 writes/s (etcd's guidance), so watchers
    /// (kube-apiserver informers) can never see a revision they already saw with other content.
    /// </summary>
    public const long DefaultBump = 1_000_000_000;

    /// <summary>Parses "etcdctl version: 3.4.23" / "etcdutl version: 3.5.12" style output.</summary>
    public static RestoreTool? Parse(string name, string versionOutput)
    {
        ArgumentNullException.ThrowIfNull(versionOutput);
        foreach (var word in versionOutput.Split([' ', '\n', '\t', ':'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (Version.TryParse(word.TrimStart('v'), out var version) && version.Major >= 3)
            {
                return new RestoreTool(name, version);
            }
        }

        return null;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} {Version}");
}
