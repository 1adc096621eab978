using System.Data.Common;
using Console.Domain.Configuration;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Console.Infrastructure.Persistence;

/// <summary>
/// The console's own database: SQLite (DataDir/console.db, the default) or PostgreSQL (Console:Database, decision
/// record 0021). Connections through the chosen provider, and versioned schema migrations, one list per provider that
/// produce the same tables, columns and indexes. Migrations are append-only; each runs once and bumps schema_version.
/// </summary>
public sealed class ConsoleDatabase
{
    private static readonly string[] SqliteMigrations =
    [
        // 1: backup records.
        """
        CREATE TABLE backups (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            cluster         TEXT    NOT NULL,
            trigger         TEXT    NOT NULL,
            requested_by    TEXT    NOT NULL,
            status          TEXT    NOT NULL,
            started_at      TEXT    NOT NULL,
            finished_at     TEXT,
            member          TEXT,
            member_note     TEXT,
            error           TEXT,
            file_name       TEXT,
            location        TEXT,
            targets         TEXT    NOT NULL,
            size_bytes      INTEGER,
            sha256          TEXT,
            revision        INTEGER,
            raft_index      INTEGER,
            etcd_version    TEXT,
            duration_ms     INTEGER,
            retention_note  TEXT
        );
        CREATE INDEX ix_backups_started ON backups (started_at DESC);
        CREATE INDEX ix_backups_cluster_started ON backups (cluster, started_at DESC);
        CREATE INDEX ix_backups_status ON backups (status, started_at DESC);
        CREATE INDEX ix_backups_trigger ON backups (trigger, started_at DESC);
        """,

        // 2: backup settings changed in the console, on top of the configuration file.
        """
        CREATE TABLE backup_overrides (
            cluster             TEXT PRIMARY KEY,
            paused              INTEGER,
            interval            TEXT,
            cron                TEXT,
            retention_count     INTEGER,
            retention_max_age   TEXT,
            clear_max_age       INTEGER NOT NULL DEFAULT 0,
            updated_at          TEXT NOT NULL,
            updated_by          TEXT NOT NULL
        );
        """,

        // 3: where each backup's copies are, protected snapshots, and verification results.
        """
        CREATE TABLE backup_copies (
            backup_id   INTEGER NOT NULL,
            target      TEXT NOT NULL,
            status      TEXT NOT NULL,
            location    TEXT,
            error       TEXT,
            attempts    INTEGER NOT NULL DEFAULT 1,
            updated_at  TEXT NOT NULL,
            PRIMARY KEY (backup_id, target)
        );
        CREATE INDEX ix_backup_copies_status ON backup_copies (status);
        CREATE TABLE protected_snapshots (
            file_name     TEXT PRIMARY KEY,
            cluster       TEXT NOT NULL,
            protected_at  TEXT NOT NULL,
            protected_by  TEXT NOT NULL,
            until         TEXT
        );
        CREATE TABLE verifications (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            file_name    TEXT NOT NULL,
            target       TEXT NOT NULL,
            verified_at  TEXT NOT NULL,
            ok           INTEGER NOT NULL,
            detail       TEXT NOT NULL,
            verified_by  TEXT NOT NULL
        );
        CREATE INDEX ix_verifications_file ON verifications (file_name, target, verified_at DESC);
        """,

        // 4: restore wizard sessions (resumable) and their audit trail.
        """
        CREATE TABLE restore_sessions (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            cluster     TEXT NOT NULL,
            active      INTEGER NOT NULL,
            state       TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        );
        CREATE UNIQUE INDEX ux_restore_sessions_active ON restore_sessions (cluster) WHERE active = 1;
        CREATE TABLE restore_audit (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id  INTEGER NOT NULL,
            at          TEXT NOT NULL,
            who         TEXT NOT NULL,
            step        TEXT NOT NULL,
            action      TEXT NOT NULL,
            outcome     TEXT NOT NULL,
            detail      TEXT NOT NULL
        );
        CREATE INDEX ix_restore_audit_session ON restore_audit (session_id, id);
        """,

        // 5: sign-in (local users, PBKDF2 hashes), API tokens (sha256 of a random token) and the audit log.
        """
        CREATE TABLE users (
            id                      INTEGER PRIMARY KEY AUTOINCREMENT,
            name                    TEXT NOT NULL COLLATE NOCASE UNIQUE,
            role                    TEXT NOT NULL,
            password_hash           TEXT NOT NULL,
            must_change_password    INTEGER NOT NULL,
            disabled                INTEGER NOT NULL DEFAULT 0,
            failed_sign_ins         INTEGER NOT NULL DEFAULT 0,
            locked_until            TEXT,
            security_stamp          TEXT NOT NULL,
            created_at              TEXT NOT NULL,
            created_by              TEXT NOT NULL,
            last_sign_in_at         TEXT
        );
        CREATE TABLE api_tokens (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            name            TEXT NOT NULL COLLATE NOCASE UNIQUE,
            role            TEXT NOT NULL,
            sha256          TEXT NOT NULL UNIQUE,
            created_at      TEXT NOT NULL,
            created_by      TEXT NOT NULL,
            last_used_at    TEXT,
            revoked_at      TEXT
        );
        CREATE TABLE audit_log (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            at          TEXT NOT NULL,
            actor       TEXT NOT NULL,
            action      TEXT NOT NULL,
            cluster     TEXT,
            subject     TEXT,
            outcome     TEXT NOT NULL,
            detail      TEXT,
            address     TEXT
        );
        CREATE INDEX ix_audit_at ON audit_log (at DESC);
        CREATE INDEX ix_audit_actor ON audit_log (actor, at DESC);
        CREATE INDEX ix_audit_action ON audit_log (action, at DESC);
        """,

        // 6: small facts the console keeps about itself (e.g. that an admin reset was done for the current setting).
        """
        CREATE TABLE console_state (
            key         TEXT PRIMARY KEY,
            value       TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        );
        """,

        // 7: the Backups dashboard's aggregates (decision record 0018): a period's outcomes, sizes and durations read
        // from one covering index instead of the table; snapshots found by file name (protected ones, per target).
        """
        CREATE INDEX ix_backups_started_outcome ON backups (started_at, cluster, status, size_bytes, duration_ms);
        CREATE INDEX ix_backups_file ON backups (file_name) WHERE file_name IS NOT NULL;
        """,

        // 8: the copies a target still holds, found without reading the ones retention deleted (which grow with history):
        // the dashboard's bytes per target sum them (decision record 0018).
        """
        CREATE INDEX ix_backup_copies_stored ON backup_copies (target, backup_id) WHERE status = 'Stored';
        """,

        // 9: replicas as peers (decision record 0022): who is alive, which replica ran each backup and for which occurrence.
        """
        CREATE TABLE replicas (
            name        TEXT PRIMARY KEY,
            started_at  TEXT NOT NULL,
            last_seen   TEXT NOT NULL,
            version     TEXT NOT NULL,
            address     TEXT
        );
        ALTER TABLE backups ADD COLUMN replica TEXT;
        ALTER TABLE backups ADD COLUMN occurrence TEXT;
        """,

        // 10: what replicas share for sign-in (decision record 0024): the
        // data-protection key ring (each key's secret encrypted) and the sign-in posts per address of the last minute.
        """
        CREATE TABLE data_protection_keys (
            friendly_name   TEXT PRIMARY KEY,
            xml             TEXT NOT NULL,
            created_at      TEXT NOT NULL
        );
        CREATE TABLE sign_in_attempts (
            address     TEXT NOT NULL,
            at          TEXT NOT NULL
        );
        CREATE INDEX ix_sign_in_attempts_address_at ON sign_in_attempts (address, at);
        """,

        // 11: continuous backup (decision record 0029): the delta segments written, the breaks in continuity, and how far
        // each cluster's watcher has made history durable.
        """
        CREATE TABLE delta_segments (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            cluster         TEXT NOT NULL,
            first_revision  INTEGER NOT NULL,
            last_revision   INTEGER NOT NULL,
            first_time      TEXT NOT NULL,
            last_time       TEXT NOT NULL,
            file_name       TEXT NOT NULL,
            codec           TEXT NOT NULL,
            event_count     INTEGER NOT NULL,
            raw_sha256      TEXT NOT NULL,
            raw_size        INTEGER NOT NULL,
            stored_sha256   TEXT NOT NULL,
            stored_size     INTEGER NOT NULL,
            targets         TEXT NOT NULL,
            status          TEXT NOT NULL,
            reason          TEXT,
            created_at      TEXT NOT NULL
        );
        CREATE UNIQUE INDEX ux_delta_segments_file ON delta_segments (cluster, file_name);
        CREATE INDEX ix_delta_segments_cluster_first ON delta_segments (cluster, first_revision);
        CREATE TABLE continuity_breaks (
            id                  INTEGER PRIMARY KEY AUTOINCREMENT,
            cluster             TEXT NOT NULL,
            after_revision      INTEGER NOT NULL,
            resumed_at_revision INTEGER,
            at                  TEXT NOT NULL,
            reason              TEXT NOT NULL
        );
        CREATE INDEX ix_continuity_breaks_cluster ON continuity_breaks (cluster, after_revision);
        CREATE TABLE continuous_state (
            cluster             TEXT PRIMARY KEY,
            durable_revision    INTEGER NOT NULL,
            durable_time        TEXT NOT NULL,
            watcher             TEXT,
            error               TEXT,
            updated_at          TEXT NOT NULL,
            cluster_id          TEXT,
            history_since       TEXT
        );
        """,

        // 12: restore drills (issue 17): one row per drill of one stored copy, newest wins.
        """
        CREATE TABLE drill_verdicts (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            backup_id       INTEGER,
            cluster         TEXT NOT NULL,
            file_name       TEXT NOT NULL,
            target          TEXT NOT NULL,
            outcome         TEXT NOT NULL,
            reason          TEXT,
            revision        INTEGER,
            key_count       INTEGER,
            canary          TEXT,
            deltas          TEXT,
            rto_ms          INTEGER,
            started_at      TEXT NOT NULL,
            finished_at     TEXT,
            replica         TEXT,
            requested_by    TEXT NOT NULL
        );
        CREATE INDEX ix_drill_verdicts_copy ON drill_verdicts (file_name, target, id DESC);
        CREATE INDEX ix_drill_verdicts_cluster ON drill_verdicts (cluster, id DESC);
        """,
        // 13: alerts (decision record 0035): the conditions that hold now, so a restart or a second replica does not
        // announce them again, and the delivery outbox, so a restart does not lose an alert still being retried.
        """
        CREATE TABLE alert_conditions (
            key             TEXT PRIMARY KEY,
            condition       TEXT NOT NULL,
            cluster         TEXT NOT NULL,
            subject         TEXT,
            summary         TEXT NOT NULL,
            detail          TEXT NOT NULL,
            started_at      TEXT NOT NULL
        );
        CREATE TABLE alert_outbox (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            channel         TEXT NOT NULL,
            kind            TEXT NOT NULL,
            condition       TEXT NOT NULL,
            cluster         TEXT,
            body            TEXT NOT NULL,
            status          TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error      TEXT,
            created_at      TEXT NOT NULL,
            finished_at     TEXT
        );
        CREATE INDEX ix_alert_outbox_due ON alert_outbox (status, next_attempt_at);
        """,
    ];

    private readonly string _connectionString;
    private readonly bool _existedAtStart;
    private volatile bool _checked;

    public ConsoleDatabase(IOptions<ConsoleSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Value.Database is { Provider: "postgres", ConnectionString: { } connectionString })
        {
            IsPostgres = true;
            Postgres = PostgresTarget.Parse(connectionString);
            _connectionString = connectionString;
            FilePath = null;
            return;
        }

        var dataDir = Path.GetFullPath(settings.Value.DataDir);
        Directory.CreateDirectory(dataDir);
        FilePath = Path.Combine(dataDir, "console.db");

        // Decided before anything opens it (opening creates the file): only a file that is not there is a first run.
        _existedAtStart = File.Exists(FilePath);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = FilePath, Cache = SqliteCacheMode.Private, Pooling = true }.ToString();
    }

    /// <summary>The SQLite file, or null on PostgreSQL.</summary>
    public string? FilePath { get; }

    public bool IsPostgres { get; }

    /// <summary>Where the PostgreSQL database is, without its password (null on SQLite).</summary>
    public PostgresTarget? Postgres { get; }

    /// <summary>What to show an operator: the file, or host, port, database and user; never a password.</summary>
    public string Description => Postgres?.ToString() ?? $"SQLite {FilePath}";

    public static int SchemaVersion => SqliteMigrations.Length;

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (IsPostgres)
        {
            var postgres = new NpgsqlConnection(_connectionString);
            await postgres.OpenAsync(cancellationToken).ConfigureAwait(false);
            return postgres;
        }

        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;").ConfigureAwait(false);
        return connection;
    }

    /// <summary>
    /// Stops start-up before anything uses the database. SQLite (<see cref="DamagedDatabaseException"/>): a file that was
    /// there before this start but is empty, not SQLite, damaged or not ours; taken for a first run, it would be silently
    /// replaced by a new one with a new admin, and every user, token, record and audit entry gone. A missing file is a
    /// first run. PostgreSQL (<see cref="DatabaseUnavailableException"/>): a server that cannot be reached or refuses the
    /// credentials. Both: a schema newer than this code. Checked once.
    /// </summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        if (_checked)
        {
            return;
        }

        if (IsPostgres)
        {
            await CheckPostgresAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (_existedAtStart)
        {
            if (await SqliteFileCheck.ProblemAsync(FilePath!, "schema_version", cancellationToken).ConfigureAwait(false) is { } problem)
            {
                throw new DamagedDatabaseException(
                    FilePath!,
                    problem,
                    "It holds the console's users, API tokens, backup records, settings changes and audit log: stop the console and restore it from a backup "
                    + "of the file (a copy of console.db taken while the console was stopped). Only if there is no backup, move it aside to start afresh: "
                    + "the console then creates a new, empty database and a new admin.");
            }

            var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                RefuseNewer(await connection.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM schema_version").ConfigureAwait(false) ?? 0);
            }
        }

        _checked = true;
    }

    /// <summary>Brings the schema up to date, after <see cref="CheckAsync"/>. Safe to call at every start.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await CheckAsync(cancellationToken).ConfigureAwait(false);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (IsPostgres)
            {
                await MigratePostgresAsync(connection, cancellationToken).ConfigureAwait(false);
                return;
            }

            await connection.ExecuteAsync("PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);").ConfigureAwait(false);
            var current = await connection.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM schema_version").ConfigureAwait(false) ?? 0;
            RefuseNewer(current);
            for (var version = (int)current + 1; version <= SqliteMigrations.Length; version++)
            {
                using var transaction = connection.BeginTransaction();
                await connection.ExecuteAsync(SqliteMigrations[version - 1], transaction: transaction).ConfigureAwait(false);
                await connection.ExecuteAsync("INSERT INTO schema_version (version) VALUES (@version)", new { version }, transaction).ConfigureAwait(false);
                transaction.Commit();
            }
        }
    }

    // Two consoles starting together on one empty database must not both migrate: the first holds this lock for its
    // whole migration (released by the database at commit, or when a crashed holder's connection dies); the second
    // then finds the schema current. The key is an arbitrary constant of ours.
    private const long MigrationLock = 0x65746364_636f6e73; // "etcdcons"

    private async Task MigratePostgresAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@MigrationLock)", new { MigrationLock }, transaction).ConfigureAwait(false);
            await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", transaction: transaction).ConfigureAwait(false);
            var current = await connection.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM schema_version", transaction: transaction).ConfigureAwait(false) ?? 0;
            RefuseNewer(current);
            for (var version = (int)current + 1; version <= PostgresMigrations.All.Count; version++)
            {
                await connection.ExecuteAsync(PostgresMigrations.All[version - 1], transaction: transaction).ConfigureAwait(false);
                await connection.ExecuteAsync("INSERT INTO schema_version (version) VALUES (@version)", new { version }, transaction).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CheckPostgresAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                // An empty database (no schema_version yet) is a first run.
                if (await connection.ExecuteScalarAsync<bool>("SELECT to_regclass('schema_version') IS NOT NULL").ConfigureAwait(false))
                {
                    RefuseNewer(await connection.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM schema_version").ConfigureAwait(false) ?? 0);
                }
            }
        }
        catch (PostgresException ex) when (ex.SqlState.StartsWith("28", StringComparison.Ordinal))
        {
            throw new DatabaseUnavailableException($"The PostgreSQL server at {Postgres} refused the credentials ({ex.MessageText}); the console did not start. Check Console:Database:ConnectionString.");
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw new DatabaseUnavailableException($"The PostgreSQL server at {Postgres} has no such database ({ex.MessageText}); the console did not start. Create it (empty) and start again.");
        }
        catch (NpgsqlException ex) when (ex is not PostgresException)
        {
            throw new DatabaseUnavailableException($"The PostgreSQL server at {Postgres} cannot be reached ({ex.InnerException?.Message ?? ex.Message}); the console did not start and changed nothing.");
        }
    }

    private void RefuseNewer(long version)
    {
        if (version > SchemaVersion)
        {
            throw new DatabaseUnavailableException(
                $"The database {Description} has schema version {version}, newer than this console knows (version {SchemaVersion}): it was used by a newer console. "
                + "The console did not start and changed nothing; run the newer version, or restore a backup of the database taken before the upgrade.");
        }
    }
}

/// <summary>Where a PostgreSQL database is, as an operator may see it: everything of its connection string but secrets.</summary>
public sealed record PostgresTarget(string Host, int Port, string Database, string User)
{
    public static PostgresTarget Parse(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // Its message may quote part of the string: said without it.
            throw new DatabaseUnavailableException("Console:Database:ConnectionString is not a valid PostgreSQL connection string (Host=...;Port=...;Database=...;Username=...;Password=...); the console did not start.");
        }

        return new PostgresTarget(builder.Host ?? "localhost", builder.Port, builder.Database ?? builder.Username ?? "", builder.Username ?? "");
    }

    public override string ToString() => $"{Host}:{Port} (database '{Database}', user '{User}')";
}

/// <summary>A database that cannot be used as it is (unreachable, refused, newer than the code): start-up stops, exit 2.</summary>
public sealed class DatabaseUnavailableException(string message) : Exception(message);
