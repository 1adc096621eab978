using Console.Domain.Clusters;

namespace Console.Domain.Configuration;

/// <summary>Turns validated cluster settings into Domain specs. Call only after ConsoleSettingsValidator found no errors.</summary>
public static class ClusterSpecParser
{
    public static ClusterSpec Parse(ClusterSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var endpoints = settings.Endpoints
            .Select(e => EtcdUrl.TryParse(e, out var url, out var error) ? url : throw new FormatException(error))
            .ToArray();
        var tls = settings.Tls is { CaFile: null or "", CertFile: null or "", KeyFile: null or "" }
            ? null
            : new TlsSpec(Blank(settings.Tls.CaFile), Blank(settings.Tls.CertFile), Blank(settings.Tls.KeyFile));
        var credentials = string.IsNullOrEmpty(settings.Auth.User)
            ? null
            : new EtcdCredentials(settings.Auth.User, settings.Auth.Password ?? string.Empty);
        var members = settings.Members
            .Select(m => new MemberSpec(
                m.Name!,
                m.PeerUrl is null ? null : EtcdUrl.TryParse(m.PeerUrl, out var peer, out _) ? peer : null,
                Blank(m.DataDir),
                m.Control is null ? MemberControl.Manual : Enum.Parse<MemberControl>(m.Control))
            {
                Commands = string.IsNullOrWhiteSpace(m.Commands.Stop) || string.IsNullOrWhiteSpace(m.Commands.Start)
                    ? null
                    : new MemberCommands(m.Commands.Stop, m.Commands.Start, Blank(m.Commands.Restore)),
            })
            .ToArray();
        var backup = settings.Backup;
        var policy = new BackupPolicy(
            backup.Enabled,
            DurationText.TryParse(backup.Interval, out var interval) ? interval : null,
            string.IsNullOrWhiteSpace(backup.Cron) ? null : backup.Cron.Trim(),
            backup.Paused,
            RetentionRules.Parse(backup.Retention),
            backup.Targets.Count == 0 ? ["local"] : [.. backup.Targets])
        {
            TargetRetention = RetentionRules.ParseTargets(backup.Retention.Targets),
            Sealing = Sealing(backup.Compression, backup.Encryption),
            Continuous = Continuous(backup.Continuous),
            Drill = Drill(backup.Drill),
        };
        return new ClusterSpec(ClusterName.Parse(settings.Name!), endpoints, tls, credentials, members) { Backup = policy, Recovery = Recovery(settings.Recovery) };
    }

    /// <summary>A cluster's or the sandbox's validated Compression and Encryption settings as a Domain policy.</summary>
    public static Backups.SnapshotSealing Sealing(CompressionSettings compression, EncryptionSettings encryption)
    {
        ArgumentNullException.ThrowIfNull(compression);
        ArgumentNullException.ThrowIfNull(encryption);
        return new(compression.Codec == "zstd", compression.Level, [.. encryption.Recipients.Select(r => r.Trim())]);
    }

    /// <summary>A cluster's or the sandbox's validated Continuous settings as a Domain policy.</summary>
    public static Backups.ContinuousPolicy Continuous(ContinuousSettings continuous)
    {
        ArgumentNullException.ThrowIfNull(continuous);
        return new(
            continuous.Enabled,
            DurationText.TryParse(continuous.FlushInterval, out var flush) ? flush : Backups.ContinuousPolicy.DefaultFlushInterval,
            continuous.MaxSegmentBytes);
    }

    /// <summary>A cluster's or the sandbox's validated Drill settings as a Domain policy.</summary>
    public static Backups.DrillPolicy Drill(DrillSettings drill)
    {
        ArgumentNullException.ThrowIfNull(drill);
        return new(drill.Enabled, drill.Every);
    }

    /// <summary>A cluster's or the sandbox's validated Recovery settings as a Domain policy.</summary>
    public static RecoveryPolicy Recovery(RecoverySettings recovery)
    {
        ArgumentNullException.ThrowIfNull(recovery);
        return new(
            recovery.AutoReplaceMember,
            recovery.AutoRestore,
            recovery.ReplaceAfterChecks,
            DurationText.TryParse(recovery.RestoreAfter, out var after) ? after : RecoveryPolicy.DefaultRestoreAfter);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
