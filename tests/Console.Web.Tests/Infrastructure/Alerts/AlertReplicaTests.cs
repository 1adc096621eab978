using Console.Domain.Configuration;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Alerts;

/// <summary>Two replicas on one PostgreSQL database, evaluating and delivering at the same moments: one alert per change.</summary>
[Collection(PostgresCollection.Name)]
public sealed class AlertReplicaTests(PostgresServer postgres)
{
    [Fact]
    public async Task Two_replicas_ticking_together_send_one_alert_when_a_condition_starts_and_one_when_it_clears()
    {
        using var receiver = new AlertReceiver();
        using var db = TestDatabase.Create("alerts", postgres);
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));
        var facts = new SetFacts { Now = [SetFacts.Failing("prod", 2), SetFacts.Failing("staging", 5)] };
        var settings = db.Settings with { Alerts = new AlertSettings { Channels = [AlertParts.Webhook("ops", receiver.Url("pg-secret"))] } };
        var one = AlertParts.Service(settings, db.Database, clock, facts, new LogSink(), "web-1");
        var two = AlertParts.Service(settings, db.Database, clock, facts, new LogSink(), "web-2");

        async Task TickBothAsync()
        {
            for (var i = 0; i < 5; i++)
            {
                await Task.WhenAll(one.TickAsync(CancellationToken.None), two.TickAsync(CancellationToken.None));
            }
        }

        await TickBothAsync();
        facts.Now = [SetFacts.Failing("prod", 0), SetFacts.Failing("staging", 5)];
        await TickBothAsync();

        var sent = receiver.Json.Select(j => $"{j.GetProperty("kind").GetString()} {j.GetProperty("cluster").GetString()}").Order(StringComparer.Ordinal);
        Assert.Equal(["fired prod", "fired staging", "resolved prod"], sent);
        Assert.Equal(["ConsecutiveFailures|staging"], (await two.ActiveAsync(CancellationToken.None)).Select(h => h.Key));
    }
}
