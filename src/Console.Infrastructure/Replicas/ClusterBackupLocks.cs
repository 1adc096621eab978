using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Console.Infrastructure.Persistence;
using Dapper;
using Npgsql;

namespace Console.Infrastructure.Replicas;

/// <summary>
/// At most one backup per cluster across replicas: on PostgreSQL a session-level advisory lock per cluster, on its own
/// connection held for the whole run; the database releases it when that connection dies with its replica. On SQLite
/// there is one console and the runner's own dictionary suffices (decision record 0022).
/// </summary>
public sealed class ClusterBackupLocks(ConsoleDatabase database)
{
    private static readonly IAsyncDisposable NoLock = new Held(null, 0);

    /// <summary>The lock of the cluster's backups, or null when another replica holds it.</summary>
    public Task<IAsyncDisposable?> TryTakeAsync(string cluster, CancellationToken cancellationToken) => TryTakeKeyAsync(KeyFor(cluster), cancellationToken);

    /// <summary>The lock of the cluster's continuous-backup watcher (one replica watches), or null when another replica holds it.</summary>
    public Task<IAsyncDisposable?> TryTakeWatchAsync(string cluster, CancellationToken cancellationToken) => TryTakeKeyAsync(KeyFor("watch:" + cluster), cancellationToken);

    /// <summary>The lock of alert evaluation and delivery (one replica sends alerts), or null when another replica holds it.</summary>
    public Task<IAsyncDisposable?> TryTakeAlertsAsync(CancellationToken cancellationToken) => TryTakeKeyAsync(KeyFor("alerts:"), cancellationToken);

    /// <summary>The lock of the periodic re-verification (one replica re-reads the stores), or null when another replica holds it.</summary>
    public Task<IAsyncDisposable?> TryTakeReverificationAsync(CancellationToken cancellationToken) => TryTakeKeyAsync(KeyFor("reverify:"), cancellationToken);

    private async Task<IAsyncDisposable?> TryTakeKeyAsync(long key, CancellationToken cancellationToken)
    {
        if (!database.IsPostgres)
        {
            return NoLock;
        }

        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await connection.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@key)", new { key }).ConfigureAwait(false))
            {
                return new Held(connection, key);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>A stable 64-bit key: the first 8 bytes of SHA-256 of "etcd-console:backup:" and the cluster name.</summary>
    public static long KeyFor(string cluster)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("etcd-console:backup:" + cluster));
        return System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    private sealed class Held(DbConnection? connection, long key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection is null)
            {
                return;
            }

            try
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key }).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DbException or InvalidOperationException)
            {
                // A broken connection holds nothing any more; never hand it back to the pool still holding the lock.
                if (connection is NpgsqlConnection npgsql)
                {
                    NpgsqlConnection.ClearPool(npgsql);
                }
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
