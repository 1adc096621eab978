using Console.Domain.Backups;
using Console.Domain.Clusters;
using Console.Domain.Configuration;

namespace Console.Web.Tests.Domain.Configuration;

public sealed class ConsoleSettingsValidatorTests
{
    private static readonly HashSet<string> ExistingFiles = ["/etc/etcd/ca.pem", "/etc/etcd/client.pem", "/etc/etcd/client-key.pem"];

    private static IReadOnlyList<string> Validate(ConsoleSettings settings) =>
        ConsoleSettingsValidator.Validate(settings, ExistingFiles.Contains);

    private static ClusterSettings Scheduled(BackupSettings backup) => Cluster() with { Backup = backup };

    private static ClusterSettings Cluster(string name = "prod", params string[] endpoints) =>
        new() { Name = name, Endpoints = endpoints.Length == 0 ? ["https://10.0.0.1:2379"] : endpoints };

    [Fact]
    public void No_clusters_is_a_valid_configuration() => Assert.Empty(Validate(new ConsoleSettings()));

    [Theory]
    [InlineData("1.00:00:00", 1440.0)]
    [InlineData("06:00:00", 360.0)]
    [InlineData("00:01:00", 1.0)]
    [InlineData("off", null)]
    [InlineData("OFF", null)]
    [InlineData("0", null)]
    [InlineData("00:00:30", -1.0)]
    [InlineData("daily", -1.0)]
    [InlineData("", -1.0)]
    [InlineData("-1.00:00:00", -1.0)]
    public void Re_verification_runs_every_time_span_of_a_minute_or_more_or_is_off(string every, double? minutes)
    {
        var verification = new VerificationSettings { Every = every };
        var errors = Validate(new ConsoleSettings { Verification = verification });

        if (minutes is -1.0)
        {
            Assert.Single(errors, e => e.StartsWith("Console:Verification:Every", StringComparison.Ordinal));
        }
        else
        {
            Assert.Empty(errors);
            Assert.Equal(minutes, verification.Interval?.TotalMinutes);
        }
    }

    [Fact]
    public void Re_verification_is_daily_by_default() => Assert.Equal(TimeSpan.FromDays(1), new ConsoleSettings().Verification.Interval);

    [Theory]
    [InlineData("http://otel-collector:4317", true)]
    [InlineData("https://collector.example:4318", true)]
    [InlineData("otel-collector:4317", false)]
    [InlineData("ftp://collector", false)]
    [InlineData("not a url", false)]
    public void An_otlp_endpoint_must_be_an_http_url(string endpoint, bool valid)
    {
        var errors = Validate(new ConsoleSettings { Metrics = new MetricsSettings { OtlpEndpoint = endpoint } });

        if (valid)
        {
            Assert.Empty(errors);
        }
        else
        {
            Assert.Contains(errors, e => e.StartsWith("Console:Metrics:OtlpEndpoint:", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Drill_every_below_one_is_refused_for_each_cluster_and_the_sandbox_with_the_timeout_all_listed_and_the_defaults_drill_every_snapshot()
    {
        var errors = Validate(new ConsoleSettings
        {
            Clusters = [Cluster("a") with { Backup = new() { Drill = new() { Every = 0 } } }, Cluster("b") with { Backup = new() { Drill = new() { Enabled = false, Every = -2 } } }],
            Sandbox = new() { Enabled = true, Backup = new() { Drill = new() { Every = 0 } } },
            Restore = new() { DrillTimeout = TimeSpan.Zero },
        });

        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:0 ('a'):Backup:Drill:Every must be 1 or more", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:1 ('b'):Backup:Drill:Every must be 1 or more", StringComparison.Ordinal) && e.Contains("not -2", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Sandbox:Backup:Drill:Every must be 1 or more", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Restore:DrillTimeout must be positive", StringComparison.Ordinal));
        Assert.Equal(new DrillPolicy(true, 1), ClusterSpecParser.Drill(new DrillSettings()));
        Assert.Equal([false, true, false, true], new[] { 1L, 2, 3, 4 }.Select(new DrillPolicy(true, 2).DrillsSnapshot));
        Assert.False(new DrillPolicy(false, 1).DrillsSnapshot(1));
    }

    [Fact]
    public void Recovery_is_off_by_default_and_bad_values_or_auto_restore_over_manual_members_are_all_listed()
    {
        var manual = new MemberSettings { Name = "m1", PeerUrl = "http://10.0.0.1:2380", Control = "Manual" };
        var errors = Validate(new ConsoleSettings
        {
            Clusters =
            [
                Cluster("a") with { Recovery = new() { AutoRestore = true, ReplaceAfterChecks = 0, RestoreAfter = "soon" }, Members = [manual] },
                Cluster("b") with { Recovery = new() { AutoRestore = true } },
            ],
            Sandbox = new() { Enabled = true, Recovery = new() { AutoReplaceMember = true, RestoreAfter = "0s" } },
        });

        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:0 ('a'):Recovery:ReplaceAfterChecks must be 1 or more", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:0 ('a'):Recovery:RestoreAfter: 'soon'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:0 ('a'):Recovery:AutoRestore cannot be on while member 'm1' is controlled by hand", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:1 ('b'):Recovery:AutoRestore needs the cluster's Members", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Sandbox:Recovery:RestoreAfter: '0s'", StringComparison.Ordinal));
        Assert.Equal(RecoveryPolicy.Off, ClusterSpecParser.Recovery(new RecoverySettings()));
        Assert.False(RecoveryPolicy.Off.Armed);
        Assert.Equal(new RecoveryPolicy(true, false, 2, TimeSpan.FromSeconds(90)), ClusterSpecParser.Recovery(new RecoverySettings { AutoReplaceMember = true, ReplaceAfterChecks = 2, RestoreAfter = "90s" }));
    }

    [Fact]
    public void A_complete_cluster_with_tls_auth_and_members_is_valid()
    {
        var settings = new ConsoleSettings
        {
            Clusters =
            [
                Cluster() with
                {
                    Tls = new() { CaFile = "/etc/etcd/ca.pem", CertFile = "/etc/etcd/client.pem", KeyFile = "/etc/etcd/client-key.pem" },
                    Auth = new() { User = "root", Password = "secret" },
                    Backup = new() { Enabled = true, Interval = "6h", Targets = ["local"], Retention = new() { Count = 7, MaxAge = "30d" } },
                    Members = [new() { Name = "m1", PeerUrl = "https://10.0.0.1:2380", DataDir = "/var/lib/etcd", Control = "Command", Commands = new() { Stop = "systemctl stop etcd", Start = "systemctl start etcd" } }],
                },
            ],
            Auth = new() { ApiTokens = [new() { Name = "ci", Sha256 = new string('a', 64), Role = "Operator" }] },
        };

        Assert.Empty(Validate(settings));
    }

    public static TheoryData<string, ConsoleSettings, string> InvalidCases => new()
    {
        { "empty name", new() { Clusters = [Cluster("")] }, "a cluster name is required" },
        { "upper-case name", new() { Clusters = [Cluster("Prod")] }, "may contain only lower-case letters" },
        { "duplicate names", new() { Clusters = [Cluster("a"), Cluster("a")] }, "used by more than one cluster" },
        { "sandbox name while sandbox on", new() { Sandbox = new() { Enabled = true }, Clusters = [Cluster("sandbox")] }, "reserved for the sandbox" },
        { "no endpoints", new() { Clusters = [new() { Name = "a" }] }, "at least one client URL is required" },
        { "endpoint not a URL", new() { Clusters = [Cluster("a", "10.0.0.1:2379")] }, "is not an absolute URL such as https://10.0.0.1:2379" },
        { "endpoint with path", new() { Clusters = [Cluster("a", "http://10.0.0.1:2379/v3")] }, "must not have a path" },
        { "endpoint without port", new() { Clusters = [Cluster("a", "http://10.0.0.1")] }, "must name its port explicitly" },
        { "endpoint with other scheme", new() { Clusters = [Cluster("a", "unix://x:1")] }, "must use http or https" },
        { "tls file missing", new() { Clusters = [Cluster() with { Tls = new() { CaFile = "/nope/ca.pem" } }] }, "the file '/nope/ca.pem' does not exist" },
        { "cert without key", new() { Clusters = [Cluster() with { Tls = new() { CertFile = "/etc/etcd/client.pem" } }] }, "CertFile and KeyFile must be given together" },
        { "tls with http endpoint", new() { Clusters = [Cluster("a", "http://10.0.0.1:2379") with { Tls = new() { CaFile = "/etc/etcd/ca.pem" } }] }, "an endpoint uses http://" },
        { "user without password", new() { Clusters = [Cluster() with { Auth = new() { User = "root" } }] }, "User and Password must be given together" },
        { "bad interval", new() { Clusters = [Cluster() with { Backup = new() { Interval = "often" } }] }, "'often' is not a duration" },
        { "negative retention", new() { Clusters = [Cluster() with { Backup = new() { Retention = new() { Count = -1 } } }] }, "Retention:Count: must not be negative" },
        { "unknown target", new() { Clusters = [Cluster() with { Backup = new() { Targets = ["ftp"] } }] }, "unknown target 'ftp'" },
        { "unknown member control", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1", Control = "Magic" }] }] }, "'Magic' is not one of Manual, Command, Managed" },
        { "duplicate member", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1" }, new() { Name = "m1" }] }] }, "member name 'm1' is used twice" },
        { "bad peer url", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1", PeerUrl = "peer" }] }] }, "PeerUrl" },
        { "sandbox size", new() { Sandbox = new() { Members = 0 } }, "Sandbox:Members must be between 1 and 9" },
        { "zero call timeout", new() { Etcd = new() { CallTimeout = TimeSpan.Zero } }, "CallTimeout must be positive" },
        { "token with plain text instead of hash", new() { Auth = new() { ApiTokens = [new() { Name = "ci", Sha256 = "let-me-in", Role = "Admin" }] } }, "64-character hex sha256" },
        { "token role", new() { Auth = new() { ApiTokens = [new() { Name = "ci", Sha256 = new string('b', 64), Role = "root" }] } }, "'root' is not one of Viewer, Operator, Admin" },
        { "s3 endpoint", new() { Storage = new() { S3 = new() { Endpoint = "s3.local" } } }, "is not an http(s) URL" },
        { "enabled without a target", new() { Clusters = [Scheduled(new() { Enabled = true, Interval = "6h" })] }, "backups are enabled but no target is set" },
        { "enabled without a schedule", new() { Clusters = [Scheduled(new() { Enabled = true, Targets = ["local"] })] }, "there is no schedule" },
        { "local target without a directory", new() { Storage = new() { Local = new() { Dir = " " } }, Clusters = [Scheduled(new() { Enabled = true, Interval = "6h", Targets = ["local"] })] }, "the local target needs a directory" },
        { "s3 target without a bucket", new() { Clusters = [Scheduled(new() { Enabled = true, Interval = "6h", Targets = ["s3"] })] }, "the s3 target needs a bucket" },
        { "interval below a minute", new() { Clusters = [Scheduled(new() { Interval = "30s" })] }, "shorter than one minute" },
        { "negative interval", new() { Clusters = [Scheduled(new() { Interval = "-5m" })] }, "is negative" },
        { "invalid cron", new() { Clusters = [Scheduled(new() { Cron = "every day" })] }, "is not a valid cron expression" },
        { "cron with impossible field", new() { Clusters = [Scheduled(new() { Cron = "0 25 * * *" })] }, "is not a valid cron expression" },
        { "cron that never fires", new() { Clusters = [Scheduled(new() { Cron = "0 0 31 2 *" })] }, "it never fires" },
        { "interval too large to represent", new() { Clusters = [Scheduled(new() { Interval = "99999999999d" })] }, "'99999999999d' is not a duration" },
        { "command control without commands", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1", Control = "Command" }] }] }, "needs Stop and Start command templates" },
        { "managed outside the sandbox", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1", Control = "Managed" }] }] }, "Managed is only for the sandbox" },
        { "interval and cron", new() { Clusters = [Scheduled(new() { Interval = "6h", Cron = "0 0 * * *" })] }, "set either Interval or Cron, not both" },
        { "negative max age", new() { Clusters = [Scheduled(new() { Retention = new() { MaxAge = "-1d" } })] }, "MaxAge: must be positive" },
        { "cron every second", new() { Clusters = [Scheduled(new() { Cron = "* * * * * *" })] }, "fires more often than once a minute (every 1s at the shortest)" },
        { "cron every 30 seconds", new() { Clusters = [Scheduled(new() { Cron = "*/30 * * * * *" })] }, "fires more often than once a minute (every 30s at the shortest)" },
        { "cron with two seconds", new() { Clusters = [Scheduled(new() { Cron = "0,59 0 * * * *" })] }, "fires more often than once a minute (every 59s at the shortest)" },
        { "cron minute and hour out of range", new() { Clusters = [Scheduled(new() { Cron = "99 99 * * *" })] }, "minute 99 is out of range 0-59" },
        { "cron hour out of range", new() { Clusters = [Scheduled(new() { Cron = "0 24 * * *" })] }, "hour 24 is out of range 0-23" },
        { "cron second out of range", new() { Clusters = [Scheduled(new() { Cron = "60 0 0 * * *" })] }, "second 60 is out of range 0-59" },
        { "cron day of month out of range", new() { Clusters = [Scheduled(new() { Cron = "0 0 32 * *" })] }, "day of month 32 is out of range 1-31" },
        { "cron day of month zero", new() { Clusters = [Scheduled(new() { Cron = "0 0 0 * *" })] }, "day of month 0 is out of range 1-31" },
        { "cron month out of range", new() { Clusters = [Scheduled(new() { Cron = "0 0 1 13 *" })] }, "month 13 is out of range 1-12" },
        { "cron day of week out of range", new() { Clusters = [Scheduled(new() { Cron = "0 0 * * 8" })] }, "day of week 8 is out of range 0-7" },
        { "cron range out of range", new() { Clusters = [Scheduled(new() { Cron = "0 20-25 * * *" })] }, "hour 25 is out of range 0-23" },
        { "cron zero step", new() { Clusters = [Scheduled(new() { Cron = "*/0 * * * *" })] }, "step 0" },
        { "cron backwards range", new() { Clusters = [Scheduled(new() { Cron = "0 5-2 * * *" })] }, "range 5-2 runs backwards" },
        { "cron with a year field", new() { Clusters = [Scheduled(new() { Cron = "0 0 0 * * ? 2030" })] }, "5 fields" },
        { "cron with both day fields", new() { Clusters = [Scheduled(new() { Cron = "0 0 1 * MON" })] }, "day of month or day of week, not both" },
        { "member name with a shell substitution", new() { Clusters = [Cluster() with { Members = [new() { Name = "$(touch pwned)" }] }] }, "Members:0:Name: '$(touch pwned)' may contain only" },
        { "member name with '='", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1=x" }] }] }, "Members:0:Name: 'm1=x' may contain only" },
        { "member name with ','", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1,m2" }] }] }, "Members:0:Name: 'm1,m2' may contain only" },
        { "member name with a space", new() { Clusters = [Cluster() with { Members = [new() { Name = "m 1" }] }] }, "Members:0:Name: 'm 1' may contain only" },
        { "data dir with ';'", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1", DataDir = "/var/lib/etcd;touch pwned" }] }] }, "Members:0:DataDir: '/var/lib/etcd;touch pwned' may contain only" },
        { "data dir with a space", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1", DataDir = "/var/lib/my etcd" }] }] }, "Members:0:DataDir: '/var/lib/my etcd' may contain only" },
        { "data dir with a quote", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1", DataDir = "/var/lib/'etcd" }] }] }, "may contain only" },
        { "relative data dir", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1", DataDir = "etcd/data" }] }] }, "Members:0:DataDir: 'etcd/data' must be an absolute path" },
        { "peer url with a shell character", new() { Clusters = [Cluster() with { Members = [new() { Name = "m1", PeerUrl = "http://10.0.0.1:2380?$(x)" }] }] }, "PeerUrl" },
        { "placeholder in double quotes", Commanded("sh -c \"echo {name}\""), "Commands:Stop: the placeholder {name} is inside quotes" },
        { "placeholder in single quotes", Commanded("ssh root@10.0.0.1 'rm -rf {dataDir}'"), "Commands:Stop: the placeholder {dataDir} is inside quotes" },
        { "placeholder in backquotes", Commanded("echo `ls {dataDir}`"), "Commands:Stop: the placeholder {dataDir} is inside quotes" },
        { "unterminated quote", Commanded("sh -c 'echo {name}"), "Commands:Stop: the placeholder {name} is inside quotes" },
        { "unknown placeholder", Commanded("systemctl stop {service}"), "Commands:Stop: unknown placeholder {service}" },
        { "unknown scheduler store", new() { Scheduler = new() { Store = "redis" } }, "'redis' is not one of sqlite, postgres" },
        { "postgres without connection", new() { Scheduler = new() { Store = "postgres" } }, "ConnectionString is required" },
        { "sqlite scheduler on a shared database", new() { Scheduler = new() { Store = "sqlite" }, Database = OnPostgres }, "Console:Scheduler:Store is sqlite but Console:Database:Provider is postgres" },
        { "replica name with a newline", new() { Replica = new() { Name = "web\n1" } }, "Console:Replica:Name must be 1 to 100 characters" },
        { "empty replica name", new() { Replica = new() { Name = "" } }, "Console:Replica:Name must be 1 to 100 characters" },
        { "heartbeat under a second", new() { Replica = new() { HeartbeatInterval = TimeSpan.FromMilliseconds(100) } }, "Console:Replica:HeartbeatInterval must be at least 1 second" },
        { "dead after under three heartbeats", new() { Replica = new() { HeartbeatInterval = TimeSpan.FromSeconds(5), DeadAfter = TimeSpan.FromSeconds(10) } }, "Console:Replica:DeadAfter must be at least three heartbeats" },
        { "postgres database without a key-encryption key", new() { Database = new() { Provider = "postgres", ConnectionString = "Host=db" } }, "Console:DataProtection:KeyEncryptionKey is required when Console:Database:Provider is postgres" },
        { "key-encryption key of 16 bytes", new() { DataProtection = new() { KeyEncryptionKey = Convert.ToBase64String(new byte[16]) } }, "Console:DataProtection:KeyEncryptionKey is not the base64 of 32 bytes: generate one with `openssl rand -base64 32`" },
        { "key-encryption key not base64", new() { DataProtection = new() { KeyEncryptionKey = "not base64!" } }, "Console:DataProtection:KeyEncryptionKey is not the base64 of 32 bytes" },
        { "unknown codec", new() { Clusters = [Cluster() with { Backup = new() { Compression = new() { Codec = "gzip" } } }] }, "Compression:Codec: 'gzip' is not a codec (use \"zstd\" or \"none\")" },
        { "zstd level 0", new() { Clusters = [Cluster() with { Backup = new() { Compression = new() { Codec = "zstd", Level = 0 } } }] }, "Compression:Level must be between 1 and 19" },
        { "zstd level 22", new() { Clusters = [Cluster() with { Backup = new() { Compression = new() { Codec = "zstd", Level = 22 } } }] }, "Compression:Level must be between 1 and 19" },
        { "empty recipient", new() { Clusters = [Cluster() with { Backup = new() { Encryption = new() { Recipients = [" "] } } }] }, "Encryption:Recipients:0 is empty" },
        { "object lock mode in lower case", S3With(objectLock: new() { Mode = "governance", RetainFor = "30d" }), "Console:Storage:S3:ObjectLock:Mode must be GOVERNANCE or COMPLIANCE (was 'governance')" },
        { "object lock without a mode", S3With(objectLock: new() { RetainFor = "30d" }), "Console:Storage:S3:ObjectLock:Mode must be GOVERNANCE or COMPLIANCE (was '')" },
        { "object lock without a period", S3With(objectLock: new() { Mode = "COMPLIANCE" }), "Console:Storage:S3:ObjectLock:RetainFor must be a positive duration such as 30d (was '')" },
        { "object lock period not a duration", S3With(objectLock: new() { Mode = "COMPLIANCE", RetainFor = "a month" }), "RetainFor must be a positive duration such as 30d (was 'a month')" },
        { "object lock period zero", S3With(objectLock: new() { Mode = "GOVERNANCE", RetainFor = "0d" }), "RetainFor must be a positive duration" },
        { "object lock shorter than retention", S3With(objectLock: new() { Mode = "GOVERNANCE", RetainFor = "7d" }, maxAge: "30d"), "Console:Storage:S3:ObjectLock:RetainFor (7d) is shorter than Console:Clusters:0 ('prod'):Backup:Retention:MaxAge (30d): the lock must last at least as long as retention keeps the copy" },
        { "unknown encryption method", S3With(sse: new() { Method = "aes256" }), "Console:Storage:S3:ServerSideEncryption:Method must be AES256, aws:kms or SSE-C (was 'aes256')" },
        { "kms key without kms", S3With(sse: new() { Method = "AES256", KmsKeyId = "alias/backups" }), "Console:Storage:S3:ServerSideEncryption:KmsKeyId is only used with Method aws:kms" },
        { "sse-c without a key", S3With(sse: new() { Method = "SSE-C" }), "Console:Storage:S3:ServerSideEncryption:CustomerKey is required with Method SSE-C and must be the base64 of 32 bytes" },
        { "sse-c key of 16 bytes", S3With(sse: new() { Method = "SSE-C", CustomerKey = Convert.ToBase64String(new byte[16]) }), "CustomerKey is required with Method SSE-C and must be the base64 of 32 bytes" },
        { "customer key without sse-c", S3With(sse: new() { Method = "aws:kms", CustomerKey = Convert.ToBase64String(new byte[32]) }), "Console:Storage:S3:ServerSideEncryption:CustomerKey is only used with Method SSE-C" },
    };

    /// <summary>A cluster backing up to s3 (retention MaxAge as given) with the bucket's lock and encryption settings.</summary>
    private static ConsoleSettings S3With(S3ObjectLockSettings? objectLock = null, S3ServerSideEncryptionSettings? sse = null, string? maxAge = null) => new()
    {
        Storage = new() { S3 = new() { Bucket = "backups", ObjectLock = objectLock ?? new(), ServerSideEncryption = sse ?? new() } },
        Clusters = [Scheduled(new() { Enabled = true, Interval = "6h", Targets = ["s3"], Retention = new() { Count = 7, MaxAge = maxAge } })],
    };

    [Theory]
    [InlineData("GOVERNANCE", "30d", "30d", "AES256", null)]
    [InlineData("COMPLIANCE", "5w", "30d", "aws:kms", null)]
    [InlineData("COMPLIANCE", "5w", null, "aws:kms", "arn:aws:kms:us-east-1:111122223333:key/test")]
    [InlineData(null, null, "30d", "SSE-C", null)]
    public void Object_lock_at_least_as_long_as_retention_and_each_encryption_method_pass(string? mode, string? retainFor, string? maxAge, string method, string? kmsKeyId)
    {
        var customerKey = method == "SSE-C" ? Convert.ToBase64String(new byte[32]) : null;
        Assert.Empty(Validate(S3With(new() { Mode = mode, RetainFor = retainFor }, new() { Method = method, KmsKeyId = kmsKeyId, CustomerKey = customerKey }, maxAge)));
    }

    [Fact]
    public void A_customer_key_is_never_quoted_in_an_error_nor_printed_with_the_settings()
    {
        var key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        var settings = S3With(sse: new() { Method = "SSE-C", CustomerKey = key });

        Assert.Empty(Validate(settings));
        var shortKey = key[..20];
        var error = Assert.Single(Validate(S3With(sse: new() { Method = "SSE-C", CustomerKey = shortKey })));
        Assert.DoesNotContain(shortKey, error, StringComparison.Ordinal);
        Assert.DoesNotContain(key, settings.ToString(), StringComparison.Ordinal);
        Assert.Contains("CustomerKey = ***", settings.ToString(), StringComparison.Ordinal);
    }

    private static DatabaseSettings OnPostgres => new() { Provider = "postgres", ConnectionString = "Host=db;Database=console;Username=console" };

    private static DataProtectionSettings SharedKey => new() { KeyEncryptionKey = Convert.ToBase64String(new byte[32]) };

    [Fact]
    public void The_scheduler_store_follows_the_database_unless_set()
    {
        Assert.Equal("postgres", new SchedulerSettings().StoreFor(OnPostgres));
        Assert.Equal(OnPostgres.ConnectionString, new SchedulerSettings().ConnectionStringFor(OnPostgres));
        Assert.Equal("sqlite", new SchedulerSettings().StoreFor(new DatabaseSettings()));
        Assert.Empty(Validate(new ConsoleSettings { Database = OnPostgres, DataProtection = SharedKey }));
        Assert.Empty(Validate(new ConsoleSettings { Database = OnPostgres, DataProtection = SharedKey, Scheduler = new() { Store = "postgres" } }));
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", "web-1:8080")]
    [InlineData("http://*:5000;https://*:5001", "web-1:5000")]
    [InlineData("http://127.0.0.1:0", "web-1-42")]
    [InlineData(null, "web-1-42")]
    public void A_replica_is_named_after_its_host_and_configured_port_else_its_process(string? urls, string expected) =>
        Assert.Equal(expected, Console.Infrastructure.Replicas.ReplicaIdentity.DefaultName("web-1", urls?.Split(';')[0], 42));


    [Fact]
    public void A_key_encryption_key_of_32_bytes_passes_and_is_never_quoted()
    {
        var key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        var settings = new ConsoleSettings { Database = new() { Provider = "postgres", ConnectionString = "Host=db" }, DataProtection = new() { KeyEncryptionKey = key } };

        Assert.Empty(Validate(settings));
        Assert.DoesNotContain(key[..20], Validate(settings with { DataProtection = new() { KeyEncryptionKey = key[..20] } }).Single(), StringComparison.Ordinal);
        Assert.DoesNotContain(key, settings.ToString(), StringComparison.Ordinal);
    }

    private static ConsoleSettings Commanded(string stop) => new()
    {
        Clusters = [Cluster() with { Members = [new() { Name = "m1", PeerUrl = "https://10.0.0.1:2380", DataDir = "/var/lib/etcd", Control = "Command", Commands = new() { Stop = stop, Start = "systemctl start etcd" } }] }],
    };

    [Theory]
    [InlineData("systemctl stop etcd")]
    [InlineData("ssh root@10.0.0.1 systemctl stop etcd")]
    [InlineData("ssh root@10.0.0.1 etcdctl snapshot restore {snapshot} --name {name} --initial-cluster {initialCluster} --data-dir {restoreDir}")]
    [InlineData("etcd --data-dir={dataDir} --initial-advertise-peer-urls={peerUrl}")]
    [InlineData("sh -c 'systemctl stop etcd' && mv {dataDir} {asideDir}")]
    [InlineData("echo \"it's done: \" {name} '{not a placeholder'")]
    public void Command_templates_with_placeholders_as_unquoted_words_pass(string stop) => Assert.Empty(Validate(Commanded(stop)));

    [Theory]
    [InlineData("m1")]
    [InlineData("etcd-0.example_1")]
    public void Member_names_of_letters_digits_dots_dashes_and_underscores_pass(string name) =>
        Assert.Empty(Validate(new ConsoleSettings { Clusters = [Cluster() with { Members = [new() { Name = name, DataDir = "/var/lib/etcd/member-1_x.y+z@2" }] }] }));

    [Theory]
    [InlineData("0 0 * * *")]
    [InlineData("* * * * *")]
    [InlineData("0 * * * * *")]
    [InlineData("30 */5 * * * *")]
    [InlineData("0 0 * * SUN")]
    [InlineData("0 30 2 ? * MON-FRI")]
    [InlineData("0 0 1 JAN,JUL *")]
    [InlineData("0 0 * * 7")]
    [InlineData("*/15 * * * *")]
    [InlineData("0 */6 * * 1-5")]
    [InlineData("0 0 12 * * ?")]
    public void Valid_cron_expressions_pass(string cron) =>
        Assert.Empty(Validate(new ConsoleSettings { Clusters = [Scheduled(new() { Enabled = true, Cron = cron, Targets = ["local"] })] }));

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Each_rule_reports_a_clear_error(string rule, ConsoleSettings settings, string expected)
    {
        var errors = Validate(settings);

        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"{rule}: expected an error containing \"{expected}\", got: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void Every_problem_is_reported_at_once_with_the_path_of_the_setting()
    {
        var settings = new ConsoleSettings
        {
            DataDir = "",
            Clusters = [new() { Name = "a" }, Cluster("a", "ftp://x:1"), Cluster("b") with { Auth = new() { Password = "p" } }],
        };

        var errors = Validate(settings);

        Assert.Equal(5, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Console:DataDir", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:0 ('a'):Endpoints", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:1 ('a'): the name 'a' is used by more than one cluster", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:1 ('a'):Endpoints: 'ftp://x:1'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Clusters:2 ('b'):Auth", StringComparison.Ordinal));
    }

    [Fact]
    public void Errors_never_contain_the_etcd_password()
    {
        var settings = new ConsoleSettings { Clusters = [Cluster("BAD NAME", "nope") with { Auth = new() { Password = "hunter2-secret" } }] };

        Assert.All(Validate(settings), e => Assert.DoesNotContain("hunter2-secret", e, StringComparison.Ordinal));
    }

    [Fact]
    public void Parsed_spec_carries_normalised_endpoints_tls_credentials_and_member_control()
    {
        var spec = ClusterSpecParser.Parse(Cluster("prod", "https://10.0.0.1:2379", "https://10.0.0.2:2379") with
        {
            Tls = new() { CaFile = "/etc/etcd/ca.pem" },
            Auth = new() { User = "root", Password = "pw" },
            Members = [new() { Name = "m1", PeerUrl = "https://10.0.0.1:2380", Control = "Managed" }, new() { Name = "m2" }],
        });

        Assert.Equal("prod", spec.Name.Value);
        Assert.Equal([new Uri("https://10.0.0.1:2379"), new Uri("https://10.0.0.2:2379")], spec.Endpoints);
        Assert.Equal("/etc/etcd/ca.pem", spec.Tls!.CaFile);
        Assert.Null(spec.Tls.CertFile);
        Assert.Equal("root", spec.Credentials!.User);
        Assert.DoesNotContain("pw", spec.Credentials.ToString(), StringComparison.Ordinal);
        Assert.Equal(Console.Domain.Clusters.MemberControl.Managed, spec.Members[0].Control);
        Assert.Equal(Console.Domain.Clusters.MemberControl.Manual, spec.Members[1].Control);
    }
}
