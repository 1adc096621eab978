namespace Console.Domain.Clusters;

/// <summary>A cluster as the console knows it, parsed from validated configuration (or registered by the sandbox).</summary>
public sealed record ClusterSpec(
    ClusterName Name,
    IReadOnlyList<Uri> Endpoints,
    TlsSpec? Tls,
    EtcdCredentials? Credentials,
    IReadOnlyList<MemberSpec> Members)
{
    public bool IsSandbox { get; init; }

    public BackupPolicy Backup { get; init; } = BackupPolicy.Default;

    /// <summary>Automatic member replacement and restore; off by default.</summary>
    public RecoveryPolicy Recovery { get; init; } = RecoveryPolicy.Off;
}

/// <summary>How a cluster is backed up. Targets default to the local store so "Back up now" always has somewhere to write.</summary>
public sealed record BackupPolicy(bool Enabled, TimeSpan? Interval, string? Cron, bool Paused, Backups.RetentionPolicy Retention, IReadOnlyList<string> Targets)
{
    public static readonly BackupPolicy Default = new(false, null, null, false, Backups.RetentionPolicy.Default, ["local"]);

    /// <summary>How copies are compressed and encrypted before they reach the targets (default: stored raw).</summary>
    public Backups.SnapshotSealing Sealing { get; init; } = Backups.SnapshotSealing.None;

    /// <summary>Continuous backup (delta segments between full snapshots); off by default.</summary>
    public Backups.ContinuousPolicy Continuous { get; init; } = Backups.ContinuousPolicy.Disabled;

    /// <summary>Restore drills after full snapshots; on (after every one) by default.</summary>
    public Backups.DrillPolicy Drill { get; init; } = Backups.DrillPolicy.Default;

    /// <summary>Per target (by name), changes to <see cref="Retention"/> for that target only.</summary>
    public IReadOnlyDictionary<string, Backups.RetentionOverride> TargetRetention { get; init; } = new Dictionary<string, Backups.RetentionOverride>();

    /// <summary>The retention that applies in <paramref name="target"/>: the cluster's, with the target's changes on top.</summary>
    public Backups.RetentionPolicy RetentionFor(string target) =>
        TargetRetention.TryGetValue(target, out var changes) ? changes.ApplyTo(Retention) : Retention;
}

/// <summary>Client TLS material: a CA to trust (null = the system store) and an optional client certificate.</summary>
public sealed record TlsSpec(string? CaFile, string? CertFile, string? KeyFile);

/// <summary>etcd user credentials. The password is never rendered or logged: ToString hides it.</summary>
public sealed record EtcdCredentials(string User, string Password)
{
    public override string ToString() => $"EtcdCredentials {{ User = {User}, Password = *** }}";
}

public sealed record MemberSpec(string Name, Uri? PeerUrl, string? DataDir, MemberControl Control)
{
    /// <summary>Stop, start and restore command templates for Command control (null when not set).</summary>
    public MemberCommands? Commands { get; init; }
}

public sealed record MemberCommands(string Stop, string Start, string? Restore);
