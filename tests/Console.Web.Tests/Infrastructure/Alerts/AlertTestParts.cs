using Console.Domain.Alerts;
using Console.Domain.Backups;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Alerts;
using Console.Infrastructure.Persistence;
using Console.Infrastructure.Replicas;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Alerts;

/// <summary>Facts set by the test: the delivery tests are about sending, not about where conditions come from.</summary>
internal sealed class SetFacts : IAlertFacts
{
    public IReadOnlyList<AlertFacts> Now { get; set; } = [];

    public Task<IReadOnlyList<AlertFacts>> ReadAsync(CancellationToken cancellationToken) => Task.FromResult(Now);

    /// <summary>A cluster whose last <paramref name="failures"/> backups failed.</summary>
    public static AlertFacts Failing(string cluster, int failures) => new(
        new BackupHealth(cluster, "disabled", null, failures > 0 ? LastBackupState.Error : LastBackupState.Ok, failures > 0 ? "etcd unreachable" : null, null, null, failures, null, false, false, null),
        [],
        null,
        null);
}

/// <summary>An alert service built from its real parts on a test database, with the test's clock and log.</summary>
internal static class AlertParts
{
    public static AlertService Service(ConsoleSettings settings, ConsoleDatabase database, TimeProvider clock, IAlertFacts facts, LogSink log, string replica = "replica-1")
    {
        var audit = new AuditLog(database, clock);
        var guard = new AccessGuard(new UserStore(database), new ApiTokenStore(database), audit, NullLogger<AccessGuard>.Instance);
        var identity = new ReplicaIdentity(Options.Create(settings with { Replica = new ReplicaSettings { Name = replica } }), new ConfigurationBuilder().Build(), clock);
        var logger = new Logger<AlertService>(LoggerFactory.Create(b => b.AddProvider(log)));
        return new AlertService(Options.Create(settings), new AlertStore(database), new AlertSender(), facts, new ClusterBackupLocks(database), audit, guard, identity, clock, logger);
    }

    public static AlertChannelSettings Webhook(string name, string url) => new() { Name = name, Kind = "webhook", Url = url };
}
