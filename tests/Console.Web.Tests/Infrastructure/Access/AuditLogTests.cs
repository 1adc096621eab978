using Console.Domain.Access;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Microsoft.Extensions.Options;

namespace Console.Web.Tests.Infrastructure.Access;

public abstract class AuditLogTests : IDisposable
{
    private readonly TestDatabase _data;
    private readonly AuditLog _audit;

    protected AuditLogTests(PostgresServer? postgres)
    {
        _data = TestDatabase.Create("audit", postgres);
        var database = _data.Database;
        _audit = new AuditLog(database, TimeProvider.System);
    }

    [Fact]
    public async Task Every_field_is_stored_bounded_with_a_visible_marker_when_too_long()
    {
        var huge = new string('x', 5_000);
        var actor = new Actor(huge, Role.Viewer, ActorKind.ApiToken) { Address = huge };

        await _audit.RecordAsync(actor, huge, huge, huge, AuditOutcome.Refused, new string('d', 50_000), CancellationToken.None);

        var entry = Assert.Single((await _audit.QueryAsync(new AuditQuery(), CancellationToken.None)).Items);
        foreach (var (field, value, limit) in new[]
        {
            ("actor", entry.Actor, AuditLog.NameLimit),
            ("action", entry.Action, AuditLog.NameLimit),
            ("cluster", entry.Cluster!, AuditLog.NameLimit),
            ("subject", entry.Subject!, AuditLog.SubjectLimit),
            ("address", entry.Address!, AuditLog.AddressLimit),
            ("detail", entry.Detail!, AuditLog.DetailLimit),
        })
        {
            Assert.True(value.Length <= limit, $"{field} is {value.Length} characters (limit {limit})");
            Assert.Contains("[truncated", value, StringComparison.Ordinal);
        }

        Assert.StartsWith("token:xxx", entry.Actor, StringComparison.Ordinal);
        Assert.StartsWith("ddd", entry.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Values_within_the_bounds_are_stored_as_they_are()
    {
        var actor = new Actor("alice", Role.Operator, ActorKind.User, 1) { Address = "2001:db8::1" };
        var detail = new string('d', AuditLog.DetailLimit);

        await _audit.RecordAsync(actor, AuditActions.BackupNow, "prod", "local/prod_20260101T000000.000Z.db", AuditOutcome.Succeeded, detail, CancellationToken.None);

        var entry = Assert.Single((await _audit.QueryAsync(new AuditQuery(), CancellationToken.None)).Items);
        Assert.Equal(("alice", AuditActions.BackupNow, "prod", "local/prod_20260101T000000.000Z.db", detail, "2001:db8::1"), (entry.Actor, entry.Action, entry.Cluster, entry.Subject, entry.Detail, entry.Address));
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    public sealed class OnSqlite() : AuditLogTests(null);

    [Collection(PostgresCollection.Name)]
    public sealed class OnPostgres(PostgresServer postgres) : AuditLogTests(postgres);
}
