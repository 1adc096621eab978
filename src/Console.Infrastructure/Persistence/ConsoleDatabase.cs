using Console.Domain.Configuration;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Persistence;

/// <summary>
/// The console's own SQLite database (DataDir/console.db): connections and versioned schema migrations.
/// Migrations are append-only; each runs once, in a transaction, and bumps schema_version.
/// </summary>
public sealed class ConsoleDatabase
{
    private static readonly string[] Migrations =
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
    ];

    private readonly string _connectionString;
    private readonly bool _existedAtStart;
    private volatile bool _checked;

    public ConsoleDatabase(IOptions<ConsoleSettings> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var dataDir = Path.GetFullPath(settings.Value.DataDir);
        Directory.CreateDirectory(dataDir);
        FilePath = Path.Combine(dataDir, "console.db");

        // Decided before anything opens it (opening creates the file): only a file that is not there is a first run.
        _existedAtStart = File.Exists(FilePath);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = FilePath, Cache = SqliteCacheMode.Private, Pooling = true }.ToString();
    }

    public string FilePath { get; }

    public static int SchemaVersion => Migrations.Length;

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;").ConfigureAwait(false);
        return connection;
    }

    /// <summary>
    /// Stops start-up (<see cref="DamagedDatabaseException"/>) when the database was there before this start but is empty,
    /// not SQLite, damaged or not ours: taken for a first run, it would be silently replaced by a new one with a new
    /// admin, and every user, token, record and audit entry gone. A missing file is a first run. Checked once.
    /// </summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        if (!_existedAtStart || _checked)
        {
            return;
        }

        if (await SqliteFileCheck.ProblemAsync(FilePath, "schema_version", cancellationToken).ConfigureAwait(false) is { } problem)
        {
            throw new DamagedDatabaseException(
                FilePath,
                problem,
                "It holds the console's users, API tokens, backup records, settings changes and audit log: stop the console and restore it from a backup "
                + "of the file (a copy of console.db taken while the console was stopped). Only if there is no backup, move it aside to start afresh: "
                + "the console then creates a new, empty database and a new admin.");
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
            await connection.ExecuteAsync("PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);").ConfigureAwait(false);
            var current = await connection.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM schema_version").ConfigureAwait(false) ?? 0;
            for (var version = (int)current + 1; version <= Migrations.Length; version++)
            {
                using var transaction = connection.BeginTransaction();
                await connection.ExecuteAsync(Migrations[version - 1], transaction: transaction).ConfigureAwait(false);
                await connection.ExecuteAsync("INSERT INTO schema_version (version) VALUES (@version)", new { version }, transaction).ConfigureAwait(false);
                transaction.Commit();
            }
        }
    }
}
