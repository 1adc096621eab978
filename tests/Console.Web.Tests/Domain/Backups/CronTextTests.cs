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
    [InlineData("0 */6 * * *", "0 0 */6 * * ?")]
    [InlineData("0 3 * * 0", "0 0 3 ? * 1")] // standard cron's Sunday (0) is Quartz's 1
    [InlineData("0 3 * * 7", "0 0 3 ? * 1")]
    [InlineData("0 3 * * 1-5", "0 0 3 ? * 2,3,4,5,6")]
    [InlineData("0 3 * * */2", "0 0 3 ? * 1,3,5,7")] // Sun, Tue, Thu, Sat: steps count from Sunday as 0
    [InlineData("30 2 1 * *", "0 30 2 1 * ?")]
    [InlineData("15 0 12 * * ?", "15 0 12 * * ?")]
    [InlineData("0 0 12 ? * MON", "0 0 12 ? * 2")]
    public void Quartz_form_keeps_the_meaning(string cron, string quartz) => Assert.Equal(quartz, CronText.ToQuartz(cron));

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
