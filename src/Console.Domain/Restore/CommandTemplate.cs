using System.Text.RegularExpressions;

namespace Console.Domain.Restore;

/// <summary>
/// Fills a member's command template with shell-quoted values from the restore plan, and states what makes a template
/// and its values safe. A quoted value is one shell word only where its placeholder stands outside quotes: inside
/// "..." a value such as $(touch x) would run. And a command that goes through ssh is parsed again by the remote
/// shell, where the local quotes are gone: so the values themselves must need no quoting at all.
/// </summary>
public static partial class CommandTemplate
{
    public static readonly IReadOnlyList<string> Placeholders = ["name", "dataDir", "peerUrl", "snapshot", "token", "initialCluster", "restoreDir", "asideDir"];

    /// <summary>Replaces each {placeholder} once, left to right, so a value that contains "{...}" is never filled again.</summary>
    public static string Fill(string template, RestorePlan plan, RestoreMemberPlan member)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(member);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["name"] = member.Name,
            ["dataDir"] = member.DataDir,
            ["peerUrl"] = member.PeerUrl.ToString().TrimEnd('/'),
            ["snapshot"] = plan.SnapshotPath,
            ["token"] = plan.Token,
            ["initialCluster"] = plan.InitialCluster,
            ["restoreDir"] = member.RestoreDir,
            ["asideDir"] = member.AsideDir,
        };
        return Placeholder().Replace(template, m => values.TryGetValue(m.Groups[1].Value, out var value) ? Shell.Quote(value) : m.Value);
    }

    /// <summary>
    /// Why a template is unsafe or wrong: a placeholder inside quotes ('...', "..." or `...`), or one we do not know.
    /// </summary>
    public static IEnumerable<string> Problems(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var quote = '\0';
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '\\' && quote != '\'')
            {
                i++;
                continue;
            }

            if (quote == '\0' && c is '\'' or '"' or '`')
            {
                quote = c;
                continue;
            }

            if (c == quote)
            {
                quote = '\0';
                continue;
            }

            // ${VAR} is the shell's, not ours.
            if (c != '{' || (i > 0 && template[i - 1] == '$') || Placeholder().Match(template, i) is not { Success: true } match || match.Index != i)
            {
                continue;
            }

            var name = match.Groups[1].Value;
            if (!Placeholders.Contains(name))
            {
                yield return $"unknown placeholder {{{name}}} (use {string.Join(' ', Placeholders.Select(p => $"{{{p}}}"))})";
            }
            else if (quote != '\0')
            {
                yield return $"the placeholder {{{name}}} is inside quotes ({quote}...{quote}), where its value is not one word and could run as a command; write it as a word of its own: the console quotes every value";
            }
        }
    }

    /// <summary>A value that needs no shell quoting at all, so it stays one harmless word even when a remote shell parses it again.</summary>
    public static bool IsPlainWord(string value) => !string.IsNullOrEmpty(value) && Shell.Quote(value) == value;

    public const string PlainWordCharacters = "letters, digits and - _ . / = : , @ % +";

    /// <summary>Member names go into shell commands and into --initial-cluster (name=url,name=url): no '=' or ','.</summary>
    public static bool IsMemberName(string value) => MemberName().IsMatch(value);

    [GeneratedRegex(@"\{([A-Za-z]+)\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex MemberName();
}
