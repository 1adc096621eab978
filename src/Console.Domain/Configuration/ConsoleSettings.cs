namespace Console.Domain.Configuration;

// The "Console" configuration section as bound from appsettings.json / environment variables.
// Everything here is raw operator input: it is validated by ConsoleSettingsValidator and then parsed
// once into Domain types (ClusterSpec). Enumerated values are strings so that a typo becomes a
// validation error in the list rather than a binder exception that hides the other problems.

public sealed record ConsoleSettings
{
    public const string SectionName = "Console";

    public string DataDir { get; init; } = "data";
    public SandboxSettings Sandbox { get; init; } = new();
    public EtcdSettings Etcd { get; init; } = new();
    public IReadOnlyList<ClusterSettings> Clusters { get; init; } = [];
    public StorageSettings Storage { get; init; } = new();
    public ApiAuthSettings Auth { get; init; } = new();
    public SchedulerSettings Scheduler { get; init; } = new();
    public RestoreSettings Restore { get; init; } = new();
    public DatabaseSettings Database { get; init; } = new();
    public ReplicaSettings Replica { get; init; } = new();
    public DataProtectionSettings DataProtection { get; init; } = new();
    public IdentitySettings Encryption { get; init; } = new();
    public MetricsSettings Metrics { get; init; } = new();
    public AlertSettings Alerts { get; init; } = new();
    public VerificationSettings Verification { get; init; } = new();
}

/// <summary>
/// The periodic re-verification: every stored copy of every cluster re-read and compared with its manifest's sha256, to
/// catch bit rot or tampering in the stores before a restore needs the copy.
/// </summary>
public sealed record VerificationSettings
{
    /// <summary>The shortest <see cref="Every"/>: a pass re-reads every copy, which for big stores takes a while.</summary>
    public static readonly TimeSpan ShortestEvery = TimeSpan.FromMinutes(1);

    /// <summary>How often: a time span ("1.00:00:00" is a day, the default), or "off" (or "0") for never.</summary>
    public string Every { get; init; } = "1.00:00:00";

    /// <summary>The interval in effect, or null when off. Only meaningful once <see cref="Validate"/> found nothing.</summary>
    public TimeSpan? Interval => TryParse(Every, out var every) ? every : null;

    public IEnumerable<string> Validate()
    {
        if (!TryParse(Every, out var every))
        {
            yield return $"Console:Verification:Every: '{Every}' is neither a time span (e.g. \"1.00:00:00\" for a day) nor \"off\".";
        }
        else if (every is { } interval && interval < ShortestEvery)
        {
            yield return $"Console:Verification:Every must be at least {ShortestEvery} (or \"off\"; was {Every}).";
        }
    }

    private static bool TryParse(string? text, out TimeSpan? every)
    {
        every = null;
        var trimmed = text?.Trim();
        if (string.Equals(trimmed, "off", StringComparison.OrdinalIgnoreCase) || trimmed == "0")
        {
            return true;
        }

        if (TimeSpan.TryParse(trimmed, System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed > TimeSpan.Zero)
        {
            every = parsed;
            return true;
        }

        return false;
    }
}

/// <summary>
/// What opens sealed (age-encrypted) copies for Verify, Download and restore: age identity files (age-keygen's
/// format). Their contents are secrets: read when needed, never stored, logged or shown. Taking a backup needs none.
/// </summary>
public sealed record IdentitySettings
{
    public IReadOnlyList<string> IdentityFiles { get; init; } = [];
}

/// <summary>This console process as one of several replicas on one database (decision record 0022).</summary>
public sealed record ReplicaSettings
{
    /// <summary>This replica's name, unique among the replicas of one database. Default: host name and the port of the first
    /// configured URL ("web-1:8080"), else host name and process id (which changes at every start).</summary>
    public string? Name { get; init; }
    /// <summary>How often this replica says it is alive, and looks for runs of replicas that are not.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>A replica not heard from for this long is dead: its Running backups are recorded as Interrupted.</summary>
    public TimeSpan DeadAfter { get; init; } = TimeSpan.FromSeconds(30);
}

public sealed record DataProtectionSettings
{
    /// <summary>
    /// Base64 of 32 random bytes that encrypts the sign-in key ring at rest (decision record 0024); set it from
    /// Console__DataProtection__KeyEncryptionKey. Required on PostgreSQL, where every replica must have the same one; on
    /// SQLite, when unset, DataDir/keyring.key is made on first start.
    /// </summary>
    public string? KeyEncryptionKey { get; init; }

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("KeyEncryptionKey = ").Append(KeyEncryptionKey is null ? "null" : "***");
        return true;
    }
}

public sealed record DatabaseSettings
{
    /// <summary>Where the console keeps its own state: "sqlite" (DataDir/console.db) or "postgres" (ConnectionString).</summary>
    public string Provider { get; init; } = "sqlite";
    /// <summary>The PostgreSQL connection string when Provider is "postgres" (set it from Console__Database__ConnectionString).</summary>
    public string? ConnectionString { get; init; }

    // Connection strings carry passwords.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Provider = ").Append(Provider).Append(", ConnectionString = ").Append(ConnectionString is null ? "null" : "***");
        return true;
    }
}

public sealed record RestoreSettings
{
    /// <summary>The largest snapshot file the Restore page accepts as an upload (etcd suggests at most 8 GiB of data).</summary>
    public long MaxUploadBytes { get; init; } = 16L << 30;
    /// <summary>How long restoring a snapshot into the throwaway directory at Verify may take before the tool is killed.</summary>
    public TimeSpan InspectTimeout { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>How long one restore drill (fetch, restore, start, checks, delta replay) may take before it is stopped and failed.</summary>
    public TimeSpan DrillTimeout { get; init; } = TimeSpan.FromMinutes(30);
}

public sealed record SchedulerSettings
{
    /// <summary>Where the scheduler keeps its jobs and schedule state: "sqlite" (DataDir/hangfire.db, one console process) or
    /// "postgres" (shared by several console processes). Unset, it follows Console:Database (see <see cref="StoreFor"/>).</summary>
    public string? Store { get; init; }
    /// <summary>The PostgreSQL connection string when Store is "postgres" (default: Console:Database's).</summary>
    public string? ConnectionString { get; init; }
    /// <summary>How often storage targets are checked for the status table.</summary>
    public TimeSpan StorageCheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The store in effect: the one set, else the database's provider (all state in one place).</summary>
    public string StoreFor(DatabaseSettings database) => Store ?? (database?.Provider == "postgres" ? "postgres" : "sqlite");

    /// <summary>The connection string in effect for a postgres store: the one set, else the database's.</summary>
    public string? ConnectionStringFor(DatabaseSettings database) => string.IsNullOrWhiteSpace(ConnectionString) ? database?.ConnectionString : ConnectionString;

    // Connection strings carry passwords.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Store = ").Append(Store).Append(", ConnectionString = ").Append(ConnectionString is null ? "null" : "***")
            .Append(", StorageCheckInterval = ").Append(StorageCheckInterval);
        return true;
    }
}

public sealed record SandboxSettings
{
    public bool Enabled { get; init; }
    public int Members { get; init; } = 3;
    /// <summary>The etcd binary: a path, or a name looked up on PATH.</summary>
    public string EtcdBinary { get; init; } = "etcd";
    /// <summary>How many sample keys are written on the sandbox's first start.</summary>
    public int SeedKeys { get; init; } = 300;
    /// <summary>Where and how the sandbox's hourly backups are stored (default: raw, to the local store).</summary>
    public SandboxBackupSettings Backup { get; init; } = new();
    /// <summary>Automatic recovery of the sandbox (its members are all managed by the console); off by default.</summary>
    public RecoverySettings Recovery { get; init; } = new();
}

/// <summary>The sandbox's backups: targets and sealing, as a configured cluster's (its schedule and retention are fixed).</summary>
public sealed record SandboxBackupSettings
{
    public IReadOnlyList<string> Targets { get; init; } = ["local"];
    public CompressionSettings Compression { get; init; } = new();
    public EncryptionSettings Encryption { get; init; } = new();
    public ContinuousSettings Continuous { get; init; } = new();
    public DrillSettings Drill { get; init; } = new();
}

public sealed record EtcdSettings
{
    /// <summary>Deadline of every unary etcd call.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How often the status poller asks every cluster for its state.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>A snapshot stream that delivers nothing for this long fails (a paused or wedged member).</summary>
    public TimeSpan SnapshotIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The longest a whole snapshot may take.</summary>
    public TimeSpan SnapshotDeadline { get; init; } = TimeSpan.FromHours(1);
}

public sealed record ClusterSettings
{
    public string? Name { get; init; }
    public IReadOnlyList<string> Endpoints { get; init; } = [];
    public TlsSettings Tls { get; init; } = new();
    public EtcdAuthSettings Auth { get; init; } = new();
    public BackupSettings Backup { get; init; } = new();
    public IReadOnlyList<MemberSettings> Members { get; init; } = [];
    public RecoverySettings Recovery { get; init; } = new();
}

/// <summary>
/// Automatic recovery, off unless turned on: replace a member failing <see cref="ReplaceAfterChecks"/> successive status
/// checks while quorum holds (<see cref="AutoReplaceMember"/>); restore the cluster when quorum has been lost for longer
/// than <see cref="RestoreAfter"/> (<see cref="AutoRestore"/>). Never for members controlled by hand.
/// </summary>
public sealed record RecoverySettings
{
    public bool AutoReplaceMember { get; init; }
    public bool AutoRestore { get; init; }
    public int ReplaceAfterChecks { get; init; } = Clusters.RecoveryPolicy.DefaultReplaceAfterChecks;
    public string RestoreAfter { get; init; } = "5m";
}

public sealed record TlsSettings
{
    public string? CaFile { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
}

public sealed record EtcdAuthSettings
{
    public string? User { get; init; }
    public string? Password { get; init; }

    // Records print every property; secrets must never reach a log or a page.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("User = ").Append(User).Append(", Password = ").Append(Password is null ? "null" : "***");
        return true;
    }
}

public sealed record BackupSettings
{
    public bool Enabled { get; init; }
    public string? Interval { get; init; }
    public string? Cron { get; init; }
    public bool Paused { get; init; }
    public RetentionSettings Retention { get; init; } = new();
    public IReadOnlyList<string> Targets { get; init; } = [];
    public CompressionSettings Compression { get; init; } = new();
    public EncryptionSettings Encryption { get; init; } = new();
    public ContinuousSettings Continuous { get; init; } = new();
    public DrillSettings Drill { get; init; } = new();
}

/// <summary>
/// Continuous backup: after each full snapshot a watcher follows the whole keyspace and writes delta segments, flushed
/// every <see cref="FlushInterval"/> (default "1s", at most "10s") or once a segment reaches <see cref="MaxSegmentBytes"/>.
/// </summary>
public sealed record ContinuousSettings
{
    public bool Enabled { get; init; }
    public string FlushInterval { get; init; } = "1s";
    public long MaxSegmentBytes { get; init; } = Backups.ContinuousPolicy.DefaultMaxSegmentBytes;
}

/// <summary>
/// Restore drills: after every <see cref="Every"/>th successful full snapshot each stored copy is restored into a
/// throwaway etcd and checked (on by default).
/// </summary>
public sealed record DrillSettings
{
    public bool Enabled { get; init; } = true;
    public int Every { get; init; } = 1;
}

/// <summary>"zstd" or "none" (the default: copies stay plain .db files that etcdctl restores as they are).</summary>
public sealed record CompressionSettings
{
    public string Codec { get; init; } = "none";
    public int Level { get; init; } = Backups.SnapshotSealing.DefaultLevel;
}

/// <summary>age recipients (public keys, "age1…") every copy is encrypted to; none: stored unencrypted.</summary>
public sealed record EncryptionSettings
{
    public IReadOnlyList<string> Recipients { get; init; } = [];
}

public sealed record RetentionSettings
{
    public int? Count { get; init; } = 7;
    public string? MaxAge { get; init; }

    /// <summary>GFS slots (null or 0: off): the newest snapshot of each of the newest N hours, days, ISO weeks, months, years (UTC).</summary>
    public int? Hourly { get; init; }
    public int? Daily { get; init; }
    public int? Weekly { get; init; }
    public int? Monthly { get; init; }
    public int? Yearly { get; init; }

    /// <summary>Per target, the same keys overriding the cluster's for that target; what is unset falls back to the cluster's.</summary>
    public RetentionTargetsSettings Targets { get; init; } = new();
}

public sealed record RetentionTargetsSettings
{
    public RetentionOverrideSettings Local { get; init; } = new();
    public RetentionOverrideSettings S3 { get; init; } = new();
}

/// <summary>A target's retention keys; unlike the cluster's, Count has no default (unset: the cluster's).</summary>
public sealed record RetentionOverrideSettings
{
    public int? Count { get; init; }
    public string? MaxAge { get; init; }
    public int? Hourly { get; init; }
    public int? Daily { get; init; }
    public int? Weekly { get; init; }
    public int? Monthly { get; init; }
    public int? Yearly { get; init; }
}

public sealed record MemberSettings
{
    public string? Name { get; init; }
    public string? PeerUrl { get; init; }
    public string? DataDir { get; init; }
    public string? Control { get; init; }
    /// <summary>For Control = Command: shell command templates run by the console during a restore.</summary>
    public MemberCommandSettings Commands { get; init; } = new();
}

/// <summary>
/// Shell command templates (run with /bin/sh -c) for a member under Command control, e.g. "systemctl stop etcd" or
/// "ssh root@10.0.0.1 systemctl stop etcd". Placeholders: {name} {dataDir} {peerUrl} {snapshot} {token}
/// {initialCluster} {restoreDir} {asideDir}, each written as a word of its own outside quotes (checked by
/// CommandTemplate.Problems). Without Restore, the planned restore and swap commands run on the console's host (the
/// data dir must be reachable there).
/// </summary>
public sealed record MemberCommandSettings
{
    public string? Stop { get; init; }
    public string? Start { get; init; }
    public string? Restore { get; init; }
}

public sealed record StorageSettings
{
    public LocalStorageSettings Local { get; init; } = new();
    public S3StorageSettings S3 { get; init; } = new();
}

public sealed record LocalStorageSettings
{
    public string? Dir { get; init; }
}

public sealed record S3StorageSettings
{
    public string? Bucket { get; init; }
    public string Prefix { get; init; } = "etcd";
    public string Region { get; init; } = "us-east-1";
    public string? Endpoint { get; init; }
    public string? AccessKeyId { get; init; }
    public string? SecretAccessKey { get; init; }
    public string? SessionToken { get; init; }
    public bool ForcePathStyle { get; init; } = true;
    /// <summary>Multipart part size. Memory used by an upload is about (ParallelParts + 1) x PartSizeMiB.</summary>
    public int PartSizeMiB { get; init; } = 8;
    /// <summary>Parts uploaded at once.</summary>
    public int ParallelParts { get; init; } = 4;
    /// <summary>How often uploads that failed while the local copy succeeded are retried from the local copy.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Object Lock on every snapshot and manifest uploaded (the bucket must have Object Lock enabled).</summary>
    public S3ObjectLockSettings ObjectLock { get; init; } = new();
    public S3ServerSideEncryptionSettings ServerSideEncryption { get; init; } = new();

    // Records print every property; secrets must never reach a log or a page.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Bucket = ").Append(Bucket).Append(", Prefix = ").Append(Prefix).Append(", Region = ").Append(Region)
            .Append(", Endpoint = ").Append(Endpoint).Append(", AccessKeyId = ").Append(AccessKeyId is null ? "null" : "***")
            .Append(", SecretAccessKey = ").Append(SecretAccessKey is null ? "null" : "***")
            .Append(", SessionToken = ").Append(SessionToken is null ? "null" : "***")
            .Append(", ForcePathStyle = ").Append(ForcePathStyle).Append(", PartSizeMiB = ").Append(PartSizeMiB)
            .Append(", ParallelParts = ").Append(ParallelParts).Append(", RetryInterval = ").Append(RetryInterval)
            .Append(", ObjectLock = ").Append(ObjectLock).Append(", ServerSideEncryption = ").Append(ServerSideEncryption);
        return true;
    }
}

/// <summary>Retention S3 enforces: each object is locked until the snapshot's time + RetainFor ("30d", as DurationText).</summary>
public sealed record S3ObjectLockSettings
{
    public const string Governance = "GOVERNANCE";
    public const string Compliance = "COMPLIANCE";

    /// <summary>GOVERNANCE (users with s3:BypassGovernanceRetention may still delete) or COMPLIANCE (nobody can, not even root).</summary>
    public string? Mode { get; init; }
    public string? RetainFor { get; init; }

    public bool Enabled => Mode is not null || RetainFor is not null;
}

/// <summary>
/// Server-side encryption of every object uploaded: AES256 (SSE-S3), aws:kms (SSE-KMS, with KmsKeyId or the bucket's
/// default key) or SSE-C (CustomerKey: the base64 of a 256-bit key, a secret sent with every request for the object).
/// </summary>
public sealed record S3ServerSideEncryptionSettings
{
    public const string S3Managed = "AES256";
    public const string Kms = "aws:kms";
    public const string CustomerProvided = "SSE-C";

    public string? Method { get; init; }
    public string? KmsKeyId { get; init; }
    public string? CustomerKey { get; init; }

    /// <summary>What an operator may see: the method and the KMS key id, never the customer key.</summary>
    public string Describe() => Method switch
    {
        null => "none",
        Kms => KmsKeyId is null ? "aws:kms (the bucket's default key)" : $"aws:kms (key {KmsKeyId})",
        CustomerProvided => "SSE-C (customer-provided key)",
        _ => Method,
    };

    // Records print every property; the customer key must never reach a log or a page.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Method = ").Append(Method).Append(", KmsKeyId = ").Append(KmsKeyId)
            .Append(", CustomerKey = ").Append(CustomerKey is null ? "null" : "***");
        return true;
    }
}

public sealed record ApiAuthSettings
{
    public IReadOnlyList<ApiTokenSettings> ApiTokens { get; init; } = [];

    /// <summary>
    /// Recovery when every admin is locked out or forgotten: at start, give 'admin' (made again if gone) the Admin
    /// role and a new one-time password, printed once. Set it for one start, then remove it.
    /// </summary>
    public bool ResetAdminPassword { get; init; }

    /// <summary>Mark the sign-in cookie Secure even when the request looks like plain HTTP (TLS ends at a remote proxy).</summary>
    public bool SecureCookies { get; init; }

    /// <summary>
    /// Reverse proxies (IP addresses or CIDR networks) whose X-Forwarded-For and X-Forwarded-Proto are believed. None by
    /// default: a forwarded header from anyone else is ignored, so nobody can claim another address or HTTPS.
    /// </summary>
    public IReadOnlyList<string> KnownProxies { get; init; } = [];
}

public sealed record ApiTokenSettings
{
    public string? Name { get; init; }
    public string? Sha256 { get; init; }
    public string? Role { get; init; }
}

/// <summary>Metrics: always scrapeable at /metrics with a Viewer token; also pushed over OTLP when an endpoint is set.</summary>
public sealed record MetricsSettings
{
    /// <summary>An OTLP collector, e.g. "http://otel-collector:4317" (gRPC); none: no push.</summary>
    public string? OtlpEndpoint { get; init; }
}
