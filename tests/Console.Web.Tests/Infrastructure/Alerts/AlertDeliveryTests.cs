using System.Net;
using Console.Domain.Access;
using Console.Domain.Configuration;
using Console.Infrastructure.Access;
using Console.Infrastructure.Persistence;
using Console.Web.Tests.Fixtures;
using Dapper;

namespace Console.Web.Tests.Infrastructure.Alerts;

public sealed class AlertDeliveryTests
{
    private const string Secret = "T0KEN-d3adbeef-not-for-eyes";
    private const string SmtpPassword = "smtp-pa55word-not-for-eyes";
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_receiver_that_answers_500_is_retried_after_the_back_off_and_the_delivery_succeeds_when_it_answers_200()
    {
        using var receiver = new AlertReceiver { Answer = n => n == 1 ? HttpStatusCode.InternalServerError : HttpStatusCode.OK };
        using var db = TestDatabase.Create("alerts", null);
        var clock = new ManualClock(Start);
        var facts = new SetFacts { Now = [SetFacts.Failing("prod", 2)] };
        var log = new LogSink();
        var settings = db.Settings with { Alerts = new AlertSettings { Channels = [AlertParts.Webhook("ops", receiver.Url(Secret))], Retry = new AlertRetrySettings { Attempts = 4, FirstDelay = "10s" } } };
        var alerts = AlertParts.Service(settings, db.Database, clock, facts, log);

        await alerts.TickAsync(CancellationToken.None);
        Assert.Single(receiver.Received);

        // Not due yet: the back-off holds it, however often the service ticks.
        clock.Advance(TimeSpan.FromSeconds(9));
        await alerts.TickAsync(CancellationToken.None);
        Assert.Single(receiver.Received);

        clock.Advance(TimeSpan.FromSeconds(1));
        await alerts.TickAsync(CancellationToken.None);
        await alerts.TickAsync(CancellationToken.None);

        Assert.Equal(2, receiver.Received.Count);
        var body = receiver.Json[1];
        Assert.Equal(("fired", "consecutive-failures", "prod"), (body.GetProperty("kind").GetString(), body.GetProperty("condition").GetString(), body.GetProperty("cluster").GetString()));
        Assert.Equal("etcd unreachable", body.GetProperty("detail").GetString());
        Assert.Equal(receiver.Received[0].Body, receiver.Received[1].Body);
        var delivery = Assert.Single(await new AlertStore(db.Database).RecentAsync(10, CancellationToken.None));
        Assert.Equal((DeliveryStatus.Delivered, 2), (delivery.Status, delivery.Attempts));

        var attempts = (await new AuditLog(db.Database, clock).QueryAsync(new AuditQuery(Action: AuditActions.AlertSend), CancellationToken.None)).Items.OrderBy(e => e.Id).ToList();
        Assert.Equal([AuditOutcome.Failed, AuditOutcome.Succeeded], attempts.Select(a => a.Outcome));
        Assert.Contains("attempt 1 of 4", attempts[0].Detail, StringComparison.Ordinal);
        Assert.Contains("HTTP 500", attempts[0].Detail, StringComparison.Ordinal);
        Assert.Contains("next attempt at 12:00:10 UTC", attempts[0].Detail, StringComparison.Ordinal);
        Assert.Contains($"http://127.0.0.1:{receiver.Port}/…", attempts[1].Detail, StringComparison.Ordinal);
        await AssertNowhereAsync(db.Database, log, Secret);
    }

    [Fact]
    public async Task A_delivery_that_keeps_failing_stops_after_the_configured_attempts_and_says_so()
    {
        using var receiver = new AlertReceiver { Answer = _ => HttpStatusCode.ServiceUnavailable };
        using var db = TestDatabase.Create("alerts", null);
        var clock = new ManualClock(Start);
        var settings = db.Settings with { Alerts = new AlertSettings { Channels = [AlertParts.Webhook("ops", receiver.Url(Secret))], Retry = new AlertRetrySettings { Attempts = 2, FirstDelay = "10s" } } };
        var alerts = AlertParts.Service(settings, db.Database, clock, new SetFacts { Now = [SetFacts.Failing("prod", 3)] }, new LogSink());

        await alerts.TickAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(5));
        await alerts.TickAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(1));
        await alerts.TickAsync(CancellationToken.None);

        Assert.Equal(2, receiver.Received.Count);
        var delivery = Assert.Single(await new AlertStore(db.Database).RecentAsync(10, CancellationToken.None));
        Assert.Equal((DeliveryStatus.Failed, 2), (delivery.Status, delivery.Attempts));
        var last = (await new AuditLog(db.Database, clock).QueryAsync(new AuditQuery(Action: AuditActions.AlertSend), CancellationToken.None)).Items.MaxBy(e => e.Id)!;
        Assert.Contains("attempt 2 of 2", last.Detail, StringComparison.Ordinal);
        Assert.Contains("failed for good", last.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_condition_alerts_once_when_it_starts_and_once_when_it_clears_even_across_a_restart()
    {
        using var receiver = new AlertReceiver();
        using var db = TestDatabase.Create("alerts", null);
        var clock = new ManualClock(Start);
        var facts = new SetFacts { Now = [SetFacts.Failing("prod", 2)] };
        var settings = db.Settings with { Alerts = new AlertSettings { Channels = [AlertParts.Webhook("ops", receiver.Url(Secret))] } };
        var alerts = AlertParts.Service(settings, db.Database, clock, facts, new LogSink());

        await alerts.TickAsync(CancellationToken.None);
        await alerts.TickAsync(CancellationToken.None);

        // A new process on the same database (a restart) finds the condition recorded: nothing is sent again.
        var restarted = AlertParts.Service(settings, db.Database, clock, facts, new LogSink());
        await restarted.TickAsync(CancellationToken.None);
        Assert.Single(receiver.Received);
        Assert.Single(await restarted.ActiveAsync(CancellationToken.None));

        clock.Advance(TimeSpan.FromMinutes(3));
        facts.Now = [SetFacts.Failing("prod", 0)];
        await restarted.TickAsync(CancellationToken.None);
        await alerts.TickAsync(CancellationToken.None);

        Assert.Equal(["fired", "resolved"], receiver.Json.Select(j => j.GetProperty("kind").GetString()));
        var resolved = receiver.Json[1];
        Assert.Equal(Start, resolved.GetProperty("startedAt").GetDateTimeOffset());
        Assert.Equal(Start.AddMinutes(3), resolved.GetProperty("resolvedAt").GetDateTimeOffset());
        Assert.Empty(await alerts.ActiveAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_test_e_mail_reaches_the_smtp_server_and_its_password_is_nowhere()
    {
        using var sink = new SmtpSink();
        using var db = TestDatabase.Create("alerts", null);
        var clock = new ManualClock(Start);
        var log = new LogSink();
        var email = new AlertChannelSettings
        {
            Name = "mail",
            Kind = "email",
            Smtp = new SmtpSettings { Host = "127.0.0.1", Port = sink.Port, User = "alerts", Password = SmtpPassword, From = "console@example.com", To = ["oncall@example.com", "lead@example.com"], StartTls = false },
        };
        var settings = db.Settings with { Alerts = new AlertSettings { Channels = [email] } };
        var alerts = AlertParts.Service(settings, db.Database, clock, new SetFacts(), log);

        var result = await alerts.SendTestAsync("mail", TestActors.Of("admin"), CancellationToken.None);

        Assert.True(result.Delivered, result.Detail);
        var mail = Assert.Single(sink.Mails);
        Assert.Equal(["<oncall@example.com>", "<lead@example.com>"], mail.To);
        Assert.Contains("[TEST] Test alert from replica-1", mail.Data, StringComparison.Ordinal);
        var audited = Assert.Single((await new AuditLog(db.Database, clock).QueryAsync(new AuditQuery(Action: AuditActions.AlertTest), CancellationToken.None)).Items);
        Assert.Equal((AuditOutcome.Succeeded, "mail"), (audited.Outcome, audited.Subject));
        Assert.Contains($"smtp 127.0.0.1:{sink.Port}", audited.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(SmtpPassword, alerts.Channels[0].ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(SmtpPassword, settings.ToString(), StringComparison.Ordinal);
        await AssertNowhereAsync(db.Database, log, SmtpPassword);
    }

    /// <summary>The secret in no log line and no text column of the alert and audit tables.</summary>
    internal static async Task AssertNowhereAsync(ConsoleDatabase database, LogSink log, string secret)
    {
        Assert.NotEmpty(log.Lines);
        Assert.DoesNotContain(secret, log.Text, StringComparison.Ordinal);
        var connection = await database.OpenAsync(CancellationToken.None);
        await using (connection)
        {
            foreach (var table in new[] { "alert_outbox", "alert_conditions", "audit_log" })
            {
                var rows = await connection.QueryAsync($"SELECT * FROM {table}");
                var text = string.Join('\n', rows.Select(r => string.Join('|', ((IDictionary<string, object?>)r).Values)));
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            }
        }
    }
}
