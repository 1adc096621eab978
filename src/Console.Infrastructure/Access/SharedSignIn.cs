using Console.Infrastructure.Persistence;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;

namespace Console.Infrastructure.Access;

/// <summary>What every replica on one database must share for sign-in to work on any of them (decision record 0024).</summary>
public static class SharedSignIn
{
    public const string ApplicationName = "etcd-backup-console";

    /// <summary>
    /// The data-protection key ring in the database, encrypted with the key-encryption key (cookies and antiforgery
    /// tokens made by one replica are read by every other), and the sign-in rate limit counted in the database.
    /// </summary>
    public static IServiceCollection AddSharedSignIn(this IServiceCollection services)
    {
        services.AddSingleton<KeyEncryptionKey>();
        services.AddSingleton<DatabaseKeyRing>();
        services.AddSingleton<SignInAttempts>();
        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<DatabaseKeyRing, KeyEncryptionKey>((o, ring, key) =>
        {
            o.XmlRepository = ring;
            o.XmlEncryptor = new KeyRingEncryptor(key);
        });
        return services;
    }

    /// <summary>The start-up check of <see cref="DatabaseKeyRing.CheckAsync"/> with this host's services.</summary>
    public static Task CheckKeyRingAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        DatabaseKeyRing.CheckAsync(services.GetRequiredService<ConsoleDatabase>(), services.GetRequiredService<KeyEncryptionKey>(), cancellationToken);
}
