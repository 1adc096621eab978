using System.Globalization;
using Console.Domain.Configuration;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Console.Infrastructure.Persistence;

/// <summary>
/// Moves a console from SQLite to PostgreSQL (issue 14, decision record 0025): every table of an SQLite console.db,
/// read from the file's own schema so a table added by a later migration is copied without a change here, into an
/// empty PostgreSQL database migrated to the same schema version. One transaction: all of it or nothing. Ids are kept
/// and identity sequences moved past them; SQLite's 0/1 become BOOLEAN where the target column is boolean.
/// </summary>
public static class CopyState
{
    /// <summary>
    /// Tables not copied: rows about the running consoles themselves (a replica's heartbeat, recent sign-in attempts),
    /// which mean nothing once the old console is stopped and are made again by the replicas on the new database; and
    /// the data-protection key ring, whose keys are encrypted with the old console's own key-encryption key (a key file
    /// beside its SQLite database): the replicas, with theirs, would refuse to start on it. A new ring costs each user
    /// one sign-in.
    /// </summary>
    public static IReadOnlySet<string> Skipped { get; } = new HashSet<string>(StringComparer.Ordinal) { "replicas", "sign_in_attempts", "data_protection_keys" };

    /// <summary>Copies <paramref name="sqlitePath"/> into the database of <paramref name="connectionString"/>.</summary>
    /// <returns>The rows copied per table, in the order copied.</returns>
    /// <exception cref="CopyStateRefusedException">The source or target is not fit; nothing was changed.</exception>
    /// <exception cref="DatabaseUnavailableException">The target cannot be reached, refuses the credentials, or is newer.</exception>
    public static async Task<IReadOnlyList<(string Table, long Rows)>> RunAsync(string sqlitePath, string connectionString, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sqlitePath);
        var sourcePath = Path.GetFullPath(sqlitePath);
        if (!File.Exists(sourcePath))
        {
            throw new CopyStateRefusedException($"There is no file {sourcePath}: give the console.db of the console to copy (in its data directory).");
        }

        if (await SqliteFileCheck.ProblemAsync(sourcePath, "schema_version", cancellationToken).ConfigureAwait(false) is { } problem)
        {
            throw new CopyStateRefusedException($"The source {sourcePath} is {problem}; nothing was copied.");
        }

        var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = sourcePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await using (source.ConfigureAwait(false))
        {
            await source.OpenAsync(cancellationToken).ConfigureAwait(false);
            var version = await source.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM schema_version").ConfigureAwait(false) ?? 0;
            if (version != ConsoleDatabase.SchemaVersion)
            {
                throw new CopyStateRefusedException(version < ConsoleDatabase.SchemaVersion
                    ? $"The source {sourcePath} has schema version {version}, older than this console's ({ConsoleDatabase.SchemaVersion}). Start this version of the console once on it (it migrates the file at start), stop it, then copy again; nothing was copied."
                    : $"The source {sourcePath} has schema version {version}, newer than this console's ({ConsoleDatabase.SchemaVersion}): copy it with the console version that made it; nothing was copied.");
            }

            var tables = (await source.QueryAsync<string>(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_version' ORDER BY name").ConfigureAwait(false))
                .Where(t => !Skipped.Contains(t))
                .ToList();

            var database = new ConsoleDatabase(Options.Create(new ConsoleSettings { Database = new DatabaseSettings { Provider = "postgres", ConnectionString = connectionString } }));
            await database.CheckAsync(cancellationToken).ConfigureAwait(false);

            // Refused before the migration too, so that a target holding anything of ours is left exactly as it was.
            var target = (NpgsqlConnection)await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (target.ConfigureAwait(false))
            {
                await RefuseNonEmptyAsync(target, tables, null, database, cancellationToken).ConfigureAwait(false);
            }

            await database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            target = (NpgsqlConnection)await database.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using (target.ConfigureAwait(false))
            {
                var transaction = await target.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    // A console started on the target meanwhile cannot write between the check and the copy.
                    await target.ExecuteAsync($"LOCK TABLE {string.Join(", ", tables.Select(Quote))} IN EXCLUSIVE MODE", transaction: transaction).ConfigureAwait(false);
                    await RefuseNonEmptyAsync(target, tables, transaction, database, cancellationToken).ConfigureAwait(false);
                    var counts = new List<(string, long)>();
                    foreach (var table in tables)
                    {
                        counts.Add((table, await CopyTableAsync(source, target, transaction, table, cancellationToken).ConfigureAwait(false)));
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return counts;
                }
            }
        }
    }

    private static async Task RefuseNonEmptyAsync(NpgsqlConnection target, IReadOnlyList<string> tables, NpgsqlTransaction? transaction, ConsoleDatabase database, CancellationToken cancellationToken)
    {
        var present = (await target.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'", transaction: transaction).ConfigureAwait(false))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var table in tables.Where(present.Contains))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await target.ExecuteScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM {Quote(table)})", transaction: transaction).ConfigureAwait(false))
            {
                throw new CopyStateRefusedException(
                    $"The target {database.Description} is not empty: its table {table} has rows. Copy into a new, empty database (CREATE DATABASE ...); nothing was copied or changed.");
            }
        }
    }

    private static async Task<long> CopyTableAsync(SqliteConnection source, NpgsqlConnection target, NpgsqlTransaction transaction, string table, CancellationToken cancellationToken)
    {
        var targetColumns = (await target.QueryAsync<(string Name, string Type, string Identity)>(
            "SELECT column_name, data_type, is_identity FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table",
            new { table },
            transaction).ConfigureAwait(false)).ToDictionary(c => c.Name, StringComparer.Ordinal);
        if (targetColumns.Count == 0)
        {
            throw new CopyStateRefusedException($"The target has no table {table} after its migration to version {ConsoleDatabase.SchemaVersion}: the two schemas differ; nothing was copied.");
        }

        var columns = (await source.QueryAsync<string>("SELECT name FROM pragma_table_info(@table) ORDER BY cid", new { table }).ConfigureAwait(false)).ToList();
        var types = columns.Select(c => targetColumns.TryGetValue(c, out var t)
            ? t.Type
            : throw new CopyStateRefusedException($"The target's table {table} has no column {c}: the two schemas differ; nothing was copied.")).ToList();

        long rows = 0;
        var select = source.CreateCommand();
        await using (select.ConfigureAwait(false))
        {
            select.CommandText = $"SELECT {string.Join(", ", columns.Select(Quote))} FROM {Quote(table)}";
            var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var importer = await target.BeginBinaryImportAsync(
                    $"COPY {Quote(table)} ({string.Join(", ", columns.Select(Quote))}) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
                await using (importer.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                        for (var i = 0; i < columns.Count; i++)
                        {
                            await WriteAsync(importer, reader.IsDBNull(i) ? null : reader.GetValue(i), types[i], table, columns[i], cancellationToken).ConfigureAwait(false);
                        }

                        rows++;
                    }

                    await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        // Ids were copied as they were: the next id the target hands out must come after them.
        foreach (var (name, _, _) in targetColumns.Values.Where(c => c.Identity == "YES"))
        {
            await target.ExecuteAsync(
                $"SELECT setval(pg_get_serial_sequence(@table, @name), COALESCE((SELECT MAX({Quote(name)}) FROM {Quote(table)}), 1), (SELECT COUNT(*) > 0 FROM {Quote(table)}))",
                new { table = Quote(table), name },
                transaction).ConfigureAwait(false);
        }

        return rows;
    }

    private static Task WriteAsync(NpgsqlBinaryImporter importer, object? value, string type, string table, string column, CancellationToken cancellationToken) =>
        (value, type) switch
        {
            (null, _) => importer.WriteNullAsync(cancellationToken),
            (_, "boolean") => importer.WriteAsync(Convert.ToInt64(value, CultureInfo.InvariantCulture) != 0, NpgsqlDbType.Boolean, cancellationToken),
            (_, "bigint") => importer.WriteAsync(Convert.ToInt64(value, CultureInfo.InvariantCulture), NpgsqlDbType.Bigint, cancellationToken),
            (_, "integer") => importer.WriteAsync(Convert.ToInt32(value, CultureInfo.InvariantCulture), NpgsqlDbType.Integer, cancellationToken),
            (_, "double precision") => importer.WriteAsync(Convert.ToDouble(value, CultureInfo.InvariantCulture), NpgsqlDbType.Double, cancellationToken),
            (string text, "text") => importer.WriteAsync(text, NpgsqlDbType.Text, cancellationToken),
            (byte[] bytes, "bytea") => importer.WriteAsync(bytes, NpgsqlDbType.Bytea, cancellationToken),

            // A column type a later migration brings: named, so the copy is extended on purpose rather than guessing.
            _ => throw new CopyStateRefusedException($"{table}.{column}: a {value.GetType().Name} into a PostgreSQL {type} column is not a conversion copy-state knows; nothing was copied."),
        };

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

/// <summary>copy-state will not copy (source of another version, non-empty target, ...): said plainly, exit 2, nothing changed.</summary>
public sealed class CopyStateRefusedException(string message) : Exception(message);
