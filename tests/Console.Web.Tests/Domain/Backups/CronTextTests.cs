using Console.Domain.Backups;

namespace Console.Web.Tests.Domain.Backups;

public sealed class CronTextTests
{
    [Theory]
    [InlineData("* * * * *", 60)]
    [InlineData("0 */6 * * *", 6 * 3600)]
    [InlineData("0 0 * * *", 86_400)]
    [InlineData("59 0,23 * * *", 3600)] // 23:59 to 00:59 the next day
    [InlineData("* * * * * *", 1)]
    [InlineData("*/10 * * * * *", 10)]
    [InlineData("0,30 * * * * *", 30)]
    [InlineData("0 * * * * *", 60)]
    [InlineData("0 0 0 * * ?", 86_400)]
    [InlineData("0 0 * * MON-FRI", 86_400)]
    [InlineData("0 0 * * SAT,SUN", 86_400)]
    [InlineData("0 0 1 * *", 28 * 86_400)] // 1 February to 1 March
    [InlineData("0 0 29 2 *", 4 * 365 * 86_400 + 86_400)] // leap years only: four years apart at the closest
    public void Shortest_gap_is_the_closest_two_firings_can_come(string cron, long seconds)
    {
        Assert.True(CronText.TryParse(cron, out var parsed, out var error), error);

        Assert.Equal(TimeSpan.FromSeconds(seconds), parsed.ShortestGap());
    }

    [Theory]
    [InlineData("0 0 30 2 *")]
    [InlineData("0 0 31 4,6,9,11 *")]
    public void A_cron_that_never_fires_has_no_gap(string cron)
    {
        Assert.True(CronText.TryParse(cron, out var parsed, out var error), error);

        Assert.Null(parsed.ShortestGap());
    }

    [Theory]
    [InlineData("0 */6 * * *", "2026-11-21T01:30:00Z", "2026-11-21T06:00:00Z")]
    [InlineData("0 */6 * * *", "2026-11-21T06:00:00Z", "2026-11-21T12:00:00Z")] // strictly after
    [InlineData("0 */6 * * *", "2026-11-21T18:00:01Z", "2026-11-22T00:00:00Z")] // over midnight
    [InlineData("* * * * *", "2026-11-21T01:30:00.500Z", "2026-11-21T01:31:00Z")]
    [InlineData("30 * * * * *", "2026-11-21T01:30:30Z", "2026-11-21T01:31:30Z")]
    [InlineData("0 3 * * 0", "2026-11-21T01:30:00Z", "2026-11-22T03:00:00Z")] // Sunday is 0
    [InlineData("0 3 * * 7", "2026-11-21T01:30:00Z", "2026-11-22T03:00:00Z")] // and 7
    [InlineData("0 3 * * MON-FRI", "2026-11-21T01:30:00Z", "2026-11-23T03:00:00Z")] // Saturday: next is Monday
    [InlineData("30 2 1 * *", "2026-11-21T01:30:00Z", "2026-12-01T02:30:00Z")]
    [InlineData("0 0 31 * *", "2026-11-21T01:30:00Z", "2026-12-31T00:00:00Z")] // November has no 31st
    [InlineData("0 0 29 2 *", "2026-11-21T01:30:00Z", "2028-02-29T00:00:00Z")] // leap years only
    [InlineData("0 0 * * *", "2026-11-21T23:30:00-02:00", "2026-11-23T00:00:00Z")] // the input's offset counts; slots are UTC
    public void Next_after_is_the_first_firing_strictly_later_in_utc(string cron, string after, string expected)
    {
        Assert.True(CronText.TryParse(cron, out var parsed, out var error), error);

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), parsed.NextAfter(DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void A_cron_that_never_fires_has_no_next_time()
    {
        Assert.True(CronText.TryParse("0 0 30 2 *", out var parsed, out var error), error);

        Assert.Null(parsed.NextAfter(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData("", "use 5 fields")]
    [InlineData("0 0 0 * * ? 2030", "it has 7")]
    [InlineData("61 * * * *", "minute 61 is out of range 0-59")]
    [InlineData("0 0 * JANUARY *", "'JANUARY' in the month field is not a number or a name such as JAN")]
    [InlineData("0 0 L * *", "'L' in the day of month field is not a number")]
    [InlineData("? * * * *", "'?' in the minute field is not a number")]
    [InlineData("0 0 1 * 1", "not both")]
    public void Bad_cron_is_refused_with_the_reason(string cron, string reason)
    {
        Assert.False(CronText.TryParse(cron, out _, out var error));

        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
