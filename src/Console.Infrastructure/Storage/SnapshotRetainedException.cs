using System.Globalization;
using Console.Domain.Backups;

namespace Console.Infrastructure.Storage;

/// <summary>
/// A store refused to delete a snapshot because the object is locked (S3 Object Lock retention or a legal hold): not a
/// failure of the store, a copy that is meant to stay. Retention keeps it and says until when.
/// </summary>
public sealed class SnapshotRetainedException : Exception
{
    public SnapshotRetainedException(string target, SnapshotName name, DateTimeOffset? retainUntil, bool legalHold, Exception? inner = null)
        : base(Describe(target, name, retainUntil, legalHold), inner)
    {
        Target = target;
        Name = name;
        RetainUntil = retainUntil;
        LegalHold = legalHold;
    }

    public SnapshotRetainedException()
    {
        Target = string.Empty;
    }

    public SnapshotRetainedException(string message)
        : base(message)
    {
        Target = string.Empty;
    }

    public SnapshotRetainedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Target = string.Empty;
    }

    public string Target { get; }

    public SnapshotName? Name { get; }

    /// <summary>When the lock ends, if the store says (or the console set it); null when only a legal hold or an unknown lock refused.</summary>
    public DateTimeOffset? RetainUntil { get; }

    public bool LegalHold { get; }

    private static string Describe(string target, SnapshotName name, DateTimeOffset? retainUntil, bool legalHold)
    {
        var until = retainUntil is { } u ? $"until {u.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}" : "(retain-until not visible to the console)";
        return legalHold
            ? $"kept {name.FileName}: under a legal hold in {target}{(retainUntil is null ? string.Empty : $", locked {until}")}"
            : $"kept {name.FileName}: locked in {target} {until}";
    }
}
