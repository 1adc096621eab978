using Console.Domain.Access;
using Console.Infrastructure.Persistence;
using Dapper;

namespace Console.Infrastructure.Access;

public sealed record AuditQuery(
    string? Actor = null,
    string? Action = null,
    string? Cluster = null,
    AuditOutcome? Outcome = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    int Skip = 0,
    int Take = 50);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, int Total);

/// <summary>
/// Every mutating action, append-only. Details are written by our code and never carry a secret. Every field is
/// bounded here, whatever the caller passes: names, subjects and details can come from a URL or a form, and an entry
/// must stay readable (and the table small) when someone sends a 5,000-character cluster name.
/// </summary>
public sealed class AuditLog(ConsoleDatabase database, TimeProvider clock)
{
    /// <summary>Actor, action and cluster.</summary>
    public const int NameLimit = 200;

    /// <summary>What the action was about: a snapshot file with its target, a user, a request path.</summary>
    public const int SubjectLimit = 1_000;

    public const int DetailLimit = 4_000;

    /// <summary>An IPv6 address with a zone fits easily.</summary>
    public const int AddressLimit = 100;

    public event Action? Changed;

    public async Task<long> RecordAsync(Actor actor, string action, string? cluster, string? subject, AuditOutcome outcome, string? detail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        long id;
        await using (connection.ConfigureAwait(false))
        {
            id = await connection.ExecuteScalarAsync<long>(
                """
                INSERT INTO audit_log (at, actor, action, cluster, subject, outcome, detail, address)
                VALUES (@at, @actor, @action, @cluster, @subject, @outcome, @detail, @address)
                RETURNING id
                """,
                new
                {
                    at = SqlTime.Text(clock.GetUtcNow()),
                    actor = Bounded(actor.Label, NameLimit),
                    action = Bounded(action, NameLimit),
                    cluster = Bounded(cluster, NameLimit),
                    subject = Bounded(subject, SubjectLimit),
                    outcome = outcome.ToString(),
                    detail = Bounded(detail, DetailLimit),
                    address = Bounded(actor.Address, AddressLimit),
                }).ConfigureAwait(false);
        }

        Changed?.Invoke();
        return id;
    }

    public async Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var where = new List<string>();
        var parameters = new DynamicParameters();
        if (!string.IsNullOrWhiteSpace(query.Actor))
        {
            where.Add("actor = @actor");
            parameters.Add("actor", query.Actor.Trim());
        }

        if (!string.IsNullOrWhiteSpace(query.Action))
        {
            // "restore." matches every restore step.
            var action = query.Action.Trim();
            where.Add(action.EndsWith('.') ? "(action = @action OR action LIKE @action || '%')" : "action = @action");
            parameters.Add("action", action);
        }

        if (!string.IsNullOrWhiteSpace(query.Cluster))
        {
            where.Add("cluster = @cluster");
            parameters.Add("cluster", query.Cluster.Trim());
        }

        if (query.Outcome is { } outcome)
        {
            where.Add("outcome = @outcome");
            parameters.Add("outcome", outcome.ToString());
        }

        if (query.From is { } from)
        {
            where.Add("at >= @from");
            parameters.Add("from", SqlTime.Text(from));
        }

        if (query.To is { } to)
        {
            where.Add("at < @to");
            parameters.Add("to", SqlTime.Text(to));
        }

        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        parameters.Add("skip", Math.Max(0, query.Skip));
        parameters.Add("take", Math.Clamp(query.Take, 1, 1000));
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var total = await connection.ExecuteScalarAsync<int>($"SELECT COUNT(*) FROM audit_log {filter}", parameters).ConfigureAwait(false);
            var rows = await connection.QueryAsync<Row>(
                $"SELECT id AS Id, at AS At, actor AS Actor, action AS Action, cluster AS Cluster, subject AS Subject, outcome AS Outcome, detail AS Detail, address AS Address FROM audit_log {filter} ORDER BY id DESC LIMIT @take OFFSET @skip",
                parameters).ConfigureAwait(false);
            return new AuditPage([.. rows.Select(r => new AuditEntry(r.Id, SqlTime.Parse(r.At), r.Actor, r.Action, r.Cluster, r.Subject, Enum.Parse<AuditOutcome>(r.Outcome), r.Detail, r.Address))], total);
        }
    }

    /// <summary>
    /// The text as it is when it fits; otherwise its start and a marker saying how much was cut, <paramref name="limit"/>
    /// characters in all, so a reader sees that the value was longer.
    /// </summary>
    public static string? Bounded(string? text, int limit)
    {
        if (text is null || text.Length <= limit)
        {
            return text;
        }

        var marker = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"…[truncated, {text.Length} characters]");
        var keep = limit - marker.Length;

        // Never cut a surrogate pair in half.
        if (keep > 0 && char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        return text[..Math.Max(0, keep)] + marker;
    }

    /// <summary>The distinct action names recorded so far, for the page's filter.</summary>
    public async Task<IReadOnlyList<string>> ActionsAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return [.. await connection.QueryAsync<string>("SELECT DISTINCT action FROM audit_log ORDER BY action").ConfigureAwait(false)];
        }
    }

    private sealed class Row
    {
        public long Id { get; set; }
        public string At { get; set; } = "";
        public string Actor { get; set; } = "";
        public string Action { get; set; } = "";
        public string? Cluster { get; set; }
        public string? Subject { get; set; }
        public string Outcome { get; set; } = "";
        public string? Detail { get; set; }
        public string? Address { get; set; }
    }
}
