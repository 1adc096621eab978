using System.Globalization;

namespace Console.Domain.Backups;

/// <summary>
/// The key a backup writes just before its snapshot, holding the backup record's id: a restore drill that finds it in
/// the restored copy knows the copy is the snapshot of that run (and not an older or foreign file under its name).
/// </summary>
public static class Canary
{
    public const string Prefix = "/etcd-backup-console/canary/";

    public static string KeyOf(string cluster) => Prefix + cluster;

    public static string ValueOf(long recordId) => recordId.ToString(CultureInfo.InvariantCulture);
}
