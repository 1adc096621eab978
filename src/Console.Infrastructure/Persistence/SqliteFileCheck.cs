using System.Text;
using Microsoft.Data.Sqlite;

namespace Console.Infrastructure.Persistence;

/// <summary>
/// Tells a database file that is there and sound from one that is there but empty or damaged. SQLite itself treats a
/// 0-byte file as a new, empty database, and a damaged one fails only at the first query that reaches the bad page:
/// so an existing file is checked before anything uses it, and a missing file is the only first run.
/// </summary>
public static class SqliteFileCheck
{
    private static readonly byte[] Header = Encoding.ASCII.GetBytes("SQLite format 3\0");

    /// <summary>What is wrong with the existing file at <paramref name="path"/>, or null when it is sound.</summary>
    /// <param name="requiredTable">A table every database of ours has (its schema marker), or null not to ask.</param>
    public static async Task<string?> ProblemAsync(string path, string? requiredTable, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (info.Length == 0)
        {
            return "empty (0 bytes)";
        }

        var start = new byte[Header.Length];
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            if (await stream.ReadAtLeastAsync(start, start.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < start.Length
                || !start.AsSpan().SequenceEqual(Header))
            {
                return $"not an SQLite database ({info.Length} bytes without SQLite's header)";
            }
        }

        // ReadWrite without Create: never makes a file; a WAL left by a crash is recovered as SQLite always would.
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString();
        try
        {
            var connection = new SqliteConnection(connectionString);
            await using (connection.ConfigureAwait(false))
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                var check = connection.CreateCommand();
                await using (check.ConfigureAwait(false))
                {
                    check.CommandText = "PRAGMA quick_check(5)";
                    var findings = new List<string>();
                    var reader = await check.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            findings.Add(reader.GetString(0));
                        }
                    }

                    if (findings is not ["ok"])
                    {
                        return $"damaged (SQLite's quick_check: {string.Join("; ", findings)})";
                    }
                }

                if (requiredTable is not null)
                {
                    var marker = connection.CreateCommand();
                    await using (marker.ConfigureAwait(false))
                    {
                        marker.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $name";
                        marker.Parameters.AddWithValue("$name", requiredTable);
                        if (Convert.ToInt64(await marker.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
                        {
                            return $"not a database of this console (it has no {requiredTable} table)";
                        }
                    }
                }
            }
        }
        catch (SqliteException ex)
        {
            return $"damaged ({ex.Message})";
        }

        return null;
    }
}

/// <summary>A database file that exists but cannot be used: start-up stops (exit 2) and touches nothing.</summary>
public sealed class DamagedDatabaseException(string path, string problem, string advice)
    : Exception($"The database {path} exists but is {problem}. The console did not start and changed nothing. {advice}")
{
    public string Path { get; } = path;
}
