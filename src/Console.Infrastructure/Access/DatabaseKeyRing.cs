using System.Security.Cryptography;
using System.Xml.Linq;
using Console.Infrastructure.Persistence;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Infrastructure.Access;

/// <summary>
/// The ASP.NET Core data-protection key ring in the console's database (table data_protection_keys), so that every
/// replica on one database signs and reads the same cookies and antiforgery tokens (decision record 0024). Each key's
/// secret is encrypted by <see cref="KeyRingEncryptor"/> before it gets here.
/// </summary>
public sealed class DatabaseKeyRing(IServiceProvider services, TimeProvider clock) : IXmlRepository
{
    private volatile bool _migrated;

    // Resolved on first use, not when the data-protection options are built: the pipeline builds those (UseAntiforgery)
    // before start-up has validated the configuration the database is opened with, whose errors must be the operator's list.
    private ConsoleDatabase Database => services.GetRequiredService<ConsoleDatabase>();

    // IXmlRepository is synchronous; it is called when the key ring is loaded (at start, then about once a day) and
    // when a key is made, so blocking on the database there costs nothing that matters.
    public IReadOnlyCollection<XElement> GetAllElements() => GetAllElementsAsync(CancellationToken.None).GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) => StoreElementAsync(element, friendlyName, CancellationToken.None).GetAwaiter().GetResult();

    public async Task<IReadOnlyCollection<XElement>> GetAllElementsAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys ORDER BY created_at, friendly_name").ConfigureAwait(false);
            return [.. rows.Select(XElement.Parse)];
        }
    }

    public async Task StoreElementAsync(XElement element, string friendlyName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(element);
        var connection = await OpenMigratedAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await connection.ExecuteAsync(
                "INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES (@friendlyName, @xml, @now) ON CONFLICT (friendly_name) DO UPDATE SET xml = excluded.xml",
                new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting), now = SqlTime.Text(clock.GetUtcNow()) }).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// At start, before anything reads a cookie: a key ring this console cannot decrypt (another replica's
    /// KeyEncryptionKey, or a lost key file) stops start-up, exit 2, rather than each replica quietly making keys of
    /// its own and signing everyone out of the others. Nothing is changed; an empty or not yet made key ring passes.
    /// </summary>
    public static async Task CheckAsync(ConsoleDatabase database, KeyEncryptionKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(key);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var exists = await connection.ExecuteScalarAsync<bool>(database.IsPostgres
                ? "SELECT to_regclass('data_protection_keys') IS NOT NULL"
                : "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'data_protection_keys'").ConfigureAwait(false);
            var rows = exists ? await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys").ConfigureAwait(false) : [];
            foreach (var encrypted in rows.SelectMany(xml => XElement.Parse(xml).Descendants(KeyRingEncryptor.ElementName)))
            {
                try
                {
                    _ = KeyRingDecryptor.Decrypt(encrypted, key);
                }
                catch (CryptographicException ex)
                {
                    throw new DatabaseUnavailableException(
                        $"The sign-in key ring in {database.Description} cannot be decrypted with {key.Source}: {ex.Message}. The console did not start and changed nothing. "
                        + "Only if that key is lost for good: delete the rows of data_protection_keys (everyone signs in again) and start again.");
                }
            }
        }
    }

    /// <summary>The data-protection system may load the key ring before the start-up service has migrated the schema.</summary>
    private async Task<System.Data.Common.DbConnection> OpenMigratedAsync(CancellationToken cancellationToken)
    {
        var database = Database;
        if (!_migrated)
        {
            await database.MigrateAsync(cancellationToken).ConfigureAwait(false);
            _migrated = true;
        }

        return await database.OpenAsync(cancellationToken).ConfigureAwait(false);
    }
}
