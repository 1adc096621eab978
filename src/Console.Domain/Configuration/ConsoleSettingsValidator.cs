using System.Globalization;
using Console.Domain.Clusters;
using Console.Domain.Restore;

namespace Console.Domain.Configuration;

/// <summary>
/// Checks the whole configuration and reports every problem at once, so an operator fixes them in one go.
/// File existence is the only thing it needs from the outside world, and it is passed in.
/// </summary>
public static class ConsoleSettingsValidator
{
    public static readonly IReadOnlySet<string> KnownTargets = new HashSet<string>(StringComparer.Ordinal) { "local", "s3" };
    public static readonly IReadOnlySet<string> KnownRoles = new HashSet<string>(StringComparer.Ordinal) { "Viewer", "Operator", "Admin" };

    public static IReadOnlyList<string> Validate(ConsoleSettings settings, Func<string, bool> fileExists)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(fileExists);
        var errors = new List<string>();

        if (string.IsNullOrWhiteSpace(settings.DataDir))
        {
            errors.Add("Console:DataDir must not be empty.");
        }

        ValidateSandbox(settings.Sandbox, settings.Storage, errors);
        ValidateEtcd(settings.Etcd, errors);
        if (settings.Metrics.OtlpEndpoint is { } otlp && !(Uri.TryCreate(otlp, UriKind.Absolute, out var collector) && collector.Scheme is "http" or "https"))
        {
            errors.Add($"Console:Metrics:OtlpEndpoint: '{otlp}' is not an http(s) URL of an OTLP collector (e.g. \"http://otel-collector:4317\").");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < settings.Clusters.Count; i++)
        {
            var cluster = settings.Clusters[i];
            var path = $"Console:Clusters:{i}";
            if (!ClusterName.TryParse(cluster.Name, out var name, out var nameError))
            {
                errors.Add($"{path}:Name: {nameError}.");
            }
            else
            {
                path = $"Console:Clusters:{i} ('{name}')";
                if (!seen.Add(name.Value))
                {
                    errors.Add($"{path}: the name '{name}' is used by more than one cluster.");
                }

                if (settings.Sandbox.Enabled && name.Value == SandboxClusterName)
                {
                    errors.Add($"{path}: the name '{SandboxClusterName}' is reserved for the sandbox cluster while Console:Sandbox:Enabled is true.");
                }
            }

            ValidateCluster(cluster, path, fileExists, errors);
            ValidateTargets(cluster.Backup, path, settings.Storage, errors);
        }

        ValidateStorage(settings, errors);
        ValidateScheduler(settings.Scheduler, settings.Database, errors);
        ValidateDatabase(settings.Database, errors);
        ValidateReplica(settings.Replica, errors);
        ValidateDataProtection(settings, errors);
        ValidateRestore(settings.Restore, errors);
        errors.AddRange(settings.Verification.Validate());
        ValidateApiTokens(settings.Auth, errors);
        ValidateKnownProxies(settings.Auth, errors);
        AlertSettingsValidator.Validate(settings.Alerts, errors);
        return errors;
    }

    public const string SandboxClusterName = "sandbox";

    private static void ValidateSandbox(SandboxSettings sandbox, StorageSettings storage, List<string> errors)
    {
        if (sandbox.Members is < 1 or > 9)
        {
            errors.Add($"Console:Sandbox:Members must be between 1 and 9 (was {sandbox.Members}).");
        }

        if (sandbox.Enabled && string.IsNullOrWhiteSpace(sandbox.EtcdBinary))
        {
            errors.Add("Console:Sandbox:EtcdBinary must name the etcd binary.");
        }

        if (sandbox.SeedKeys < 0)
        {
            errors.Add($"Console:Sandbox:SeedKeys must not be negative (was {sandbox.SeedKeys}).");
        }

        if (sandbox.Enabled)
        {
            foreach (var target in sandbox.Backup.Targets.Where(t => !KnownTargets.Contains(t)))
            {
                errors.Add($"Console:Sandbox:Backup:Targets: unknown target '{target}' (use \"local\" or \"s3\").");
            }

            ValidateTargets(new BackupSettings { Enabled = true, Targets = sandbox.Backup.Targets }, "Console:Sandbox", storage, errors);
            ValidateSealing("Console:Sandbox:Backup", sandbox.Backup.Compression, sandbox.Backup.Encryption, errors);
            errors.AddRange(Backups.ContinuousPolicy.Validate("Console:Sandbox:Backup:Continuous", sandbox.Backup.Continuous.FlushInterval, sandbox.Backup.Continuous.MaxSegmentBytes));
            errors.AddRange(Backups.DrillPolicy.Validate("Console:Sandbox:Backup:Drill", sandbox.Backup.Drill.Every));
            errors.AddRange(RecoveryPolicy.Validate("Console:Sandbox:Recovery", sandbox.Recovery.AutoRestore, sandbox.Recovery.ReplaceAfterChecks, sandbox.Recovery.RestoreAfter, [], membersKnown: false));
        }
    }

    private static void ValidateEtcd(EtcdSettings etcd, List<string> errors)
    {
        if (etcd.CallTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Console:Etcd:CallTimeout must be positive (was {etcd.CallTimeout}).");
        }

        if (etcd.SnapshotIdleTimeout <= TimeSpan.Zero || etcd.SnapshotDeadline <= TimeSpan.Zero)
        {
            errors.Add($"Console:Etcd:SnapshotIdleTimeout and SnapshotDeadline must be positive (were {etcd.SnapshotIdleTimeout} and {etcd.SnapshotDeadline}).");
        }

        if (etcd.PollInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Console:Etcd:PollInterval must be at least 1 second (was {etcd.PollInterval}).");
        }
    }

    private static void ValidateCluster(ClusterSettings cluster, string path, Func<string, bool> fileExists, List<string> errors)
    {
        if (cluster.Endpoints.Count == 0)
        {
            errors.Add($"{path}:Endpoints: at least one client URL is required, for example https://10.0.0.1:2379.");
        }

        var schemes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in cluster.Endpoints)
        {
            if (EtcdUrl.TryParse(endpoint, out var url, out var error))
            {
                schemes.Add(url.Scheme);
            }
            else
            {
                errors.Add($"{path}:Endpoints: {error}.");
            }
        }

        ValidateTls(cluster.Tls, path, schemes, fileExists, errors);

        var hasUser = !string.IsNullOrEmpty(cluster.Auth.User);
        var hasPassword = !string.IsNullOrEmpty(cluster.Auth.Password);
        if (hasUser != hasPassword)
        {
            errors.Add($"{path}:Auth: User and Password must be given together.");
        }

        ValidateBackup(cluster.Backup, path + ":Backup", errors);
        ValidateMembers(cluster.Members, path, errors);
        errors.AddRange(RecoveryPolicy.Validate(
            path + ":Recovery",
            cluster.Recovery.AutoRestore,
            cluster.Recovery.ReplaceAfterChecks,
            cluster.Recovery.RestoreAfter,
            cluster.Members.Where(m => m.Name is not null).Select(m => (m.Name!, Enum.TryParse<MemberControl>(m.Control, out var c) ? c : MemberControl.Manual)),
            membersKnown: true));
    }

    private static void ValidateTls(TlsSettings tls, string path, HashSet<string> schemes, Func<string, bool> fileExists, List<string> errors)
    {
        var anyTls = !string.IsNullOrEmpty(tls.CaFile) || !string.IsNullOrEmpty(tls.CertFile) || !string.IsNullOrEmpty(tls.KeyFile);
        if (string.IsNullOrEmpty(tls.CertFile) != string.IsNullOrEmpty(tls.KeyFile))
        {
            errors.Add($"{path}:Tls: CertFile and KeyFile must be given together.");
        }

        if (anyTls && schemes.Contains(Uri.UriSchemeHttp))
        {
            errors.Add($"{path}:Tls is set but an endpoint uses http://; use https:// endpoints with TLS.");
        }

        foreach (var (key, file) in new[] { ("CaFile", tls.CaFile), ("CertFile", tls.CertFile), ("KeyFile", tls.KeyFile) })
        {
            if (!string.IsNullOrEmpty(file) && !fileExists(file))
            {
                errors.Add($"{path}:Tls:{key}: the file '{file}' does not exist.");
            }
        }
    }

    private static void ValidateBackup(BackupSettings backup, string path, List<string> errors)
    {
        errors.AddRange(Backups.BackupScheduleRules.Validate(path, backup.Enabled, backup.Interval, backup.Cron, backup.Retention.Count, backup.Retention.MaxAge));
        errors.AddRange(RetentionRules.Validate(path + ":Retention", backup.Retention));
        foreach (var target in backup.Targets.Where(t => !KnownTargets.Contains(t)))
        {
            errors.Add($"{path}:Targets: unknown target '{target}' (use \"local\" or \"s3\").");
        }

        ValidateSealing(path, backup.Compression, backup.Encryption, errors);
        errors.AddRange(Backups.ContinuousPolicy.Validate(path + ":Continuous", backup.Continuous.FlushInterval, backup.Continuous.MaxSegmentBytes));
        errors.AddRange(Backups.DrillPolicy.Validate(path + ":Drill", backup.Drill.Every));
    }

    /// <summary>A cluster's or the sandbox's Compression and Encryption (recipients are parsed at start-up by Infrastructure).</summary>
    internal static void ValidateSealing(string path, CompressionSettings compression, EncryptionSettings encryption, List<string> errors)
    {
        if (compression.Codec is not ("zstd" or "none"))
        {
            errors.Add($"{path}:Compression:Codec: '{compression.Codec}' is not a codec (use \"zstd\" or \"none\").");
        }

        if (compression.Level is < 1 or > Backups.SnapshotSealing.MaxLevel)
        {
            errors.Add($"{path}:Compression:Level must be between 1 and {Backups.SnapshotSealing.MaxLevel} (zstd's levels; 3 is its default), not {compression.Level}.");
        }

        foreach (var i in encryption.Recipients.Select((r, i) => (r, i)).Where(x => string.IsNullOrWhiteSpace(x.r)).Select(x => x.i))
        {
            errors.Add($"{path}:Encryption:Recipients:{i} is empty; give an age recipient (\"age1…\", from age-keygen -y).");
        }
    }

    private static void ValidateTargets(BackupSettings backup, string path, StorageSettings storage, List<string> errors)
    {
        if (backup.Enabled && backup.Targets.Count == 0)
        {
            errors.Add($"{path}:Backup:Targets: backups are enabled but no target is set; use [\"local\"], [\"s3\"] or both.");
        }

        if (backup.Targets.Contains("local") && storage.Local.Dir is { } dir && string.IsNullOrWhiteSpace(dir))
        {
            errors.Add($"{path}:Backup:Targets: the local target needs a directory; Console:Storage:Local:Dir is empty (leave it out to use DataDir/snapshots).");
        }

        if (backup.Targets.Contains("s3") && string.IsNullOrWhiteSpace(storage.S3.Bucket))
        {
            errors.Add($"{path}:Backup:Targets: the s3 target needs a bucket; set Console:Storage:S3:Bucket.");
        }
    }

    private static void ValidateMembers(IReadOnlyList<MemberSettings> members, string path, List<string> errors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var m = 0; m < members.Count; m++)
        {
            var member = members[m];
            var memberPath = string.Create(CultureInfo.InvariantCulture, $"{path}:Members:{m}");
            if (string.IsNullOrWhiteSpace(member.Name))
            {
                errors.Add($"{memberPath}:Name is required.");
            }
            else if (!CommandTemplate.IsMemberName(member.Name))
            {
                errors.Add($"{memberPath}:Name: '{member.Name}' may contain only letters, digits, '.', '_' and '-', starting with a letter or digit, up to 63 characters (member names go into shell commands and into --initial-cluster name=url,...).");
            }
            else if (!names.Add(member.Name))
            {
                errors.Add($"{memberPath}: the member name '{member.Name}' is used twice.");
            }

            if (member.PeerUrl is not null && !EtcdUrl.TryParse(member.PeerUrl, out _, out var peerError))
            {
                errors.Add($"{memberPath}:PeerUrl: {peerError}.");
            }
            else if (member.PeerUrl is not null && !CommandTemplate.IsPlainWord(member.PeerUrl.Replace("[", string.Empty, StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal)))
            {
                errors.Add($"{memberPath}:PeerUrl: '{member.PeerUrl}' may contain only {CommandTemplate.PlainWordCharacters} (and [ ] around an IPv6 address), as it goes into shell commands.");
            }

            if (!string.IsNullOrEmpty(member.DataDir))
            {
                if (!CommandTemplate.IsPlainWord(member.DataDir))
                {
                    errors.Add($"{memberPath}:DataDir: '{member.DataDir}' may contain only {CommandTemplate.PlainWordCharacters} (no spaces, quotes or other shell characters), as it goes into shell commands.");
                }
                else if (!member.DataDir.StartsWith('/'))
                {
                    errors.Add($"{memberPath}:DataDir: '{member.DataDir}' must be an absolute path, such as /var/lib/etcd.");
                }
            }

            foreach (var (key, template) in new[] { ("Stop", member.Commands.Stop), ("Start", member.Commands.Start), ("Restore", member.Commands.Restore) })
            {
                foreach (var problem in string.IsNullOrWhiteSpace(template) ? [] : CommandTemplate.Problems(template))
                {
                    errors.Add($"{memberPath}:Commands:{key}: {problem}.");
                }
            }

            if (member.Control is not null && !Enum.TryParse<MemberControl>(member.Control, ignoreCase: false, out _))
            {
                errors.Add($"{memberPath}:Control: '{member.Control}' is not one of Manual, Command, Managed.");
            }

            if (member.Control == nameof(MemberControl.Command) && (string.IsNullOrWhiteSpace(member.Commands.Stop) || string.IsNullOrWhiteSpace(member.Commands.Start)))
            {
                errors.Add($"{memberPath}:Commands: a member under Command control needs Stop and Start command templates.");
            }

            if (member.Control == nameof(MemberControl.Managed))
            {
                errors.Add($"{memberPath}:Control: Managed is only for the sandbox's own members; use Command (with command templates) or Manual.");
            }
        }
    }

    private static void ValidateStorage(ConsoleSettings settings, List<string> errors)
    {
        var s3 = settings.Storage.S3;
        if (s3.PartSizeMiB is < 5 or > 1024)
        {
            errors.Add($"Console:Storage:S3:PartSizeMiB must be between 5 (S3's minimum) and 1024 (each part is held in memory; was {s3.PartSizeMiB}).");
        }

        if (s3.ParallelParts is < 1 or > 64)
        {
            errors.Add($"Console:Storage:S3:ParallelParts must be between 1 and 64 (was {s3.ParallelParts}).");
        }

        if (s3.RetryInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Console:Storage:S3:RetryInterval must be at least 1 second (was {s3.RetryInterval}).");
        }

        if (!string.IsNullOrEmpty(s3.AccessKeyId) != !string.IsNullOrEmpty(s3.SecretAccessKey))
        {
            errors.Add("Console:Storage:S3: AccessKeyId and SecretAccessKey must be given together.");
        }

        var endpoint = settings.Storage.S3.Endpoint;
        if (!string.IsNullOrWhiteSpace(endpoint) &&
            (!Uri.TryCreate(endpoint, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add($"Console:Storage:S3:Endpoint: '{endpoint}' is not an http(s) URL.");
        }

        ValidateObjectLock(settings, errors);
        ValidateServerSideEncryption(s3.ServerSideEncryption, errors);
    }

    private static void ValidateObjectLock(ConsoleSettings settings, List<string> errors)
    {
        var objectLock = settings.Storage.S3.ObjectLock;
        if (!objectLock.Enabled)
        {
            return;
        }

        if (objectLock.Mode is not (S3ObjectLockSettings.Governance or S3ObjectLockSettings.Compliance))
        {
            errors.Add($"Console:Storage:S3:ObjectLock:Mode must be {S3ObjectLockSettings.Governance} or {S3ObjectLockSettings.Compliance} (was '{objectLock.Mode}').");
        }

        if (!DurationText.TryParse(objectLock.RetainFor, out var retainFor) || retainFor <= TimeSpan.Zero)
        {
            errors.Add($"Console:Storage:S3:ObjectLock:RetainFor must be a positive duration such as 30d (was '{objectLock.RetainFor}').");
            return;
        }

        // A lock shorter than retention's MaxAge leaves the copy deletable by anyone while the console still counts on it.
        for (var i = 0; i < settings.Clusters.Count; i++)
        {
            var backup = settings.Clusters[i].Backup;
            if (backup.Targets.Contains("s3") && DurationText.TryParse(backup.Retention.MaxAge, out var maxAge) && retainFor < maxAge)
            {
                errors.Add($"Console:Storage:S3:ObjectLock:RetainFor ({objectLock.RetainFor}) is shorter than Console:Clusters:{i} ('{settings.Clusters[i].Name}'):Backup:Retention:MaxAge ({backup.Retention.MaxAge}): the lock must last at least as long as retention keeps the copy.");
            }
        }
    }

    private static void ValidateServerSideEncryption(S3ServerSideEncryptionSettings sse, List<string> errors)
    {
        const string Path = "Console:Storage:S3:ServerSideEncryption";
        if (sse.Method is not (null or S3ServerSideEncryptionSettings.S3Managed or S3ServerSideEncryptionSettings.Kms or S3ServerSideEncryptionSettings.CustomerProvided))
        {
            errors.Add($"{Path}:Method must be {S3ServerSideEncryptionSettings.S3Managed}, {S3ServerSideEncryptionSettings.Kms} or {S3ServerSideEncryptionSettings.CustomerProvided} (was '{sse.Method}').");
        }

        if (sse.KmsKeyId is not null && sse.Method != S3ServerSideEncryptionSettings.Kms)
        {
            errors.Add($"{Path}:KmsKeyId is only used with Method {S3ServerSideEncryptionSettings.Kms}.");
        }

        // The key itself is never repeated in a message.
        if (sse.Method == S3ServerSideEncryptionSettings.CustomerProvided && (sse.CustomerKey is null || !IsKeyEncryptionKey(sse.CustomerKey)))
        {
            errors.Add($"{Path}:CustomerKey is required with Method SSE-C and must be the base64 of 32 bytes (a 256-bit key, e.g. from `openssl rand -base64 32`; set it from the environment variable Console__Storage__S3__ServerSideEncryption__CustomerKey).");
        }
        else if (sse.Method != S3ServerSideEncryptionSettings.CustomerProvided && sse.CustomerKey is not null)
        {
            errors.Add($"{Path}:CustomerKey is only used with Method SSE-C.");
        }
    }

    private static void ValidateRestore(RestoreSettings restore, List<string> errors)
    {
        if (restore.MaxUploadBytes <= 0)
        {
            errors.Add($"Console:Restore:MaxUploadBytes must be positive (was {restore.MaxUploadBytes}).");
        }

        if (restore.DrillTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Console:Restore:DrillTimeout must be positive (was {restore.DrillTimeout}).");
        }

        if (restore.InspectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Console:Restore:InspectTimeout must be positive (was {restore.InspectTimeout}).");
        }
    }

    private static void ValidateDatabase(DatabaseSettings database, List<string> errors)
    {
        var hasConnectionString = !string.IsNullOrWhiteSpace(database.ConnectionString);
        if (database.Provider is not ("sqlite" or "postgres"))
        {
            errors.Add($"Console:Database:Provider: '{database.Provider}' is not one of sqlite, postgres.");
        }
        else if (database.Provider == "postgres" && !hasConnectionString)
        {
            errors.Add("Console:Database:ConnectionString is required when Console:Database:Provider is postgres (set it from the environment variable Console__Database__ConnectionString).");
        }
        else if (database.Provider == "sqlite" && hasConnectionString)
        {
            // Almost certainly a forgotten Provider: the console would quietly keep its state in DataDir/console.db.
            errors.Add("Console:Database:ConnectionString is set but Console:Database:Provider is sqlite, which keeps its state in DataDir/console.db: set Provider to postgres or remove the connection string.");
        }
    }

    /// <summary>The key ring's key-encryption key: its value is never quoted, only what is wrong with it.</summary>
    private static void ValidateDataProtection(ConsoleSettings settings, List<string> errors)
    {
        const string Hint = "generate one with `openssl rand -base64 32` and give every replica the same one through the environment variable Console__DataProtection__KeyEncryptionKey";
        var key = settings.DataProtection.KeyEncryptionKey;
        if (string.IsNullOrWhiteSpace(key))
        {
            if (settings.Database.Provider == "postgres")
            {
                errors.Add($"Console:DataProtection:KeyEncryptionKey is required when Console:Database:Provider is postgres (it encrypts the sign-in key ring every replica shares): {Hint}.");
            }
        }
        else if (!IsKeyEncryptionKey(key))
        {
            errors.Add($"Console:DataProtection:KeyEncryptionKey is not the base64 of 32 bytes: {Hint}.");
        }
    }

    /// <summary>The base64 of 32 bytes: a 256-bit key (the key-encryption key, an SSE-C customer key).</summary>
    public static bool IsKeyEncryptionKey(string text)
    {
        Span<byte> bytes = stackalloc byte[33];
        return Convert.TryFromBase64String(text.Trim(), bytes, out var written) && written == 32;
    }

    private static void ValidateReplica(ReplicaSettings replica, List<string> errors)
    {
        if (replica.Name is { } name && (name.Length is 0 or > 100 || name.Any(char.IsControl) || name.Trim() != name))
        {
            errors.Add("Console:Replica:Name must be 1 to 100 characters, without control characters or surrounding spaces (or unset, for host name and port).");
        }

        if (replica.HeartbeatInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Console:Replica:HeartbeatInterval must be at least 1 second (was {replica.HeartbeatInterval}).");
        }
        else if (replica.DeadAfter < replica.HeartbeatInterval * 3)
        {
            // One late heartbeat (a busy database, a GC pause) must not make a live replica's backups Interrupted.
            errors.Add($"Console:Replica:DeadAfter must be at least three heartbeats (3 x Console:Replica:HeartbeatInterval = {replica.HeartbeatInterval * 3}; was {replica.DeadAfter}).");
        }
    }

    private static void ValidateScheduler(SchedulerSettings scheduler, DatabaseSettings database, List<string> errors)
    {
        var store = scheduler.StoreFor(database);
        if (store is not ("sqlite" or "postgres"))
        {
            errors.Add($"Console:Scheduler:Store: '{scheduler.Store}' is not one of sqlite, postgres.");
        }
        else if (store == "postgres" && string.IsNullOrWhiteSpace(scheduler.ConnectionStringFor(database)))
        {
            errors.Add("Console:Scheduler:ConnectionString is required when Console:Scheduler:Store is postgres and Console:Database:Provider is not.");
        }
        else if (store == "sqlite" && database.Provider == "postgres")
        {
            // Each replica would keep its own schedule in its own file and run every occurrence itself.
            errors.Add("Console:Scheduler:Store is sqlite but Console:Database:Provider is postgres: replicas sharing the database would each run every scheduled backup. Remove Console:Scheduler:Store (it then follows the database) or set it to postgres.");
        }

        if (scheduler.StorageCheckInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Console:Scheduler:StorageCheckInterval must be at least 1 second (was {scheduler.StorageCheckInterval}).");
        }
    }

    private static void ValidateApiTokens(ApiAuthSettings auth, List<string> errors)
    {
        for (var t = 0; t < auth.ApiTokens.Count; t++)
        {
            var token = auth.ApiTokens[t];
            var tokenPath = string.Create(CultureInfo.InvariantCulture, $"Console:Auth:ApiTokens:{t}");
            if (string.IsNullOrWhiteSpace(token.Name))
            {
                errors.Add($"{tokenPath}:Name is required.");
            }

            if (token.Sha256 is null || token.Sha256.Length != 64 || !token.Sha256.All(char.IsAsciiHexDigit))
            {
                errors.Add($"{tokenPath}:Sha256 must be the 64-character hex sha256 of the token (never the token itself).");
            }

            if (token.Role is null || !KnownRoles.Contains(token.Role))
            {
                errors.Add($"{tokenPath}:Role: '{token.Role}' is not one of Viewer, Operator, Admin.");
            }
        }
    }

    // Forwarded headers are believed from these only (the web layer reads them with the same parser).
    private static void ValidateKnownProxies(ApiAuthSettings auth, List<string> errors)
    {
        for (var p = 0; p < auth.KnownProxies.Count; p++)
        {
            if (!Access.KnownProxy.TryParse(auth.KnownProxies[p], out _, out var error))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"Console:Auth:KnownProxies:{p}: {error}."));
            }
        }
    }
}
