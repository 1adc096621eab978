using Console.Domain.Clusters;
using Console.Domain.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Sealing;

/// <summary>
/// The keys of sealed copies: each cluster's recipients (public, from its Backup:Encryption) and the identity files
/// that open copies (Console:Encryption:IdentityFiles). Identity files are read each time a copy is opened, so a key
/// added or rotated on disk is used without a restart, and their contents live in memory only while needed.
/// </summary>
public sealed class SealingKeys(IOptions<ConsoleSettings> options)
{
    public static IReadOnlyList<AgeRecipient> RecipientsOf(ClusterSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return [.. spec.Backup.Sealing.Recipients.Select(r => AgeRecipient.TryParse(r, out var recipient, out var error)
            ? recipient
            : throw new InvalidOperationException($"{spec.Name}: {error}"))];
    }

    public bool HasIdentities => options.Value.Encryption.IdentityFiles.Count > 0;

    /// <summary>The configured identities; <see cref="IOException"/> (without any key material) when a file cannot be read.</summary>
    public IReadOnlyList<AgeIdentity> Identities() =>
        [.. options.Value.Encryption.IdentityFiles.SelectMany(ReadIdentityFile)];

    private static IReadOnlyList<AgeIdentity> ReadIdentityFile(string path)
    {
        try
        {
            return AgeIdentity.ReadFile(path);
        }
        catch (FormatException ex)
        {
            throw new IOException(ex.Message, ex);
        }
    }

    /// <summary>Start-up checks the Domain validator cannot make: recipients parse, identity files exist and parse.</summary>
    public static IEnumerable<string> Validate(ConsoleSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var lists = settings.Clusters.Select((cluster, c) => ($"Console:Clusters:{c}:Backup", cluster.Backup.Encryption.Recipients))
            .Append(("Console:Sandbox:Backup", settings.Sandbox.Backup.Encryption.Recipients));
        foreach (var (path, recipients) in lists)
        {
            for (var r = 0; r < recipients.Count; r++)
            {
                if (!string.IsNullOrWhiteSpace(recipients[r]) && !AgeRecipient.TryParse(recipients[r].Trim(), out _, out var error))
                {
                    yield return $"{path}:Encryption:Recipients:{r}: {error}";
                }
            }
        }

        for (var i = 0; i < settings.Encryption.IdentityFiles.Count; i++)
        {
            var path = settings.Encryption.IdentityFiles[i];
            string? problem = null;
            try
            {
                if (AgeIdentity.ReadFile(path).Count == 0)
                {
                    problem = "holds no identity (AGE-SECRET-KEY-1…)";
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                problem = ex is FileNotFoundException or DirectoryNotFoundException ? "does not exist" : ex.Message;
            }

            if (problem is not null)
            {
                yield return $"Console:Encryption:IdentityFiles:{i}: '{path}' {problem}.";
            }
        }
    }
}
