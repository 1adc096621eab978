using System.Reflection;
using Console.Domain.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Console.Infrastructure.Replicas;

/// <summary>
/// This console process as one replica of several on one database (decision record 0022): its name, when it started,
/// its version and where it listens, if that is known before the server starts.
/// </summary>
public sealed class ReplicaIdentity
{
    public ReplicaIdentity(IOptions<ConsoleSettings> settings, IConfiguration configuration, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(clock);
        Address = FirstUrl(configuration["urls"]);
        Name = settings.Value.Replica.Name ?? DefaultName(Environment.MachineName, Address, Environment.ProcessId);
        StartedAt = clock.GetUtcNow();
    }

    public string Name { get; }

    public DateTimeOffset StartedAt { get; }

    public string Version { get; } = typeof(ReplicaIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "dev";

    /// <summary>The first configured URL (ASPNETCORE_URLS / --urls), or null.</summary>
    public string? Address { get; }

    /// <summary>
    /// Host name and port when the port is configured (the same after a restart, so the restarted replica settles its
    /// own runs at once); otherwise host name and process id, which a restart changes (its old runs are then settled
    /// once the old name's heartbeat is older than DeadAfter).
    /// </summary>
    public static string DefaultName(string host, string? address, int processId)
    {
        var wildcard = address?.Replace("://*", "://any", StringComparison.Ordinal).Replace("://+", "://any", StringComparison.Ordinal);
        return Uri.TryCreate(wildcard, UriKind.Absolute, out var uri) && uri.Port > 0
            ? $"{host}:{uri.Port}"
            : $"{host}-{processId}";
    }

    private static string? FirstUrl(string? urls) =>
        urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}
