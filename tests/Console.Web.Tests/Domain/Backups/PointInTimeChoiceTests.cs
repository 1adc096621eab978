using Console.Domain.Backups;
using Console.Domain.Clusters;

namespace Console.Web.Tests.Domain.Backups;

/// <summary>What an operator may type as a point in time, and which points the window allows: tables of cases.</summary>
public sealed class PointInTimeChoiceTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    // Two spans with a break between: revisions 100-200 (10:00-10:30) and 300-400 (11:00-11:30).
    private static readonly RecoverableWindow Window = new(
        ClusterName.Parse("prod"),
        true,
        [new RecoverableSpan(100, 200, T0, T0.AddMinutes(30), "a.db"), new RecoverableSpan(300, 400, T0.AddHours(1), T0.AddMinutes(90), "b.db")],
        [new ContinuityBreak(200, 300, T0.AddMinutes(45), "compacted")],
        T0.AddMinutes(90));

    [Theory]
    [InlineData("2026-12-02 10:15:07", null, "2026-12-02T10:15:07Z", null)]
    [InlineData("2026-12-02T10:15:07", "", "2026-12-02T10:15:07Z", null)]
    [InlineData(" 2026-12-02 10:15:07Z ", "  ", "2026-12-02T10:15:07Z", null)]
    [InlineData("2026-12-02 10:15:07 UTC", null, "2026-12-02T10:15:07Z", null)]
    [InlineData(null, "150", null, 150L)]
    [InlineData("", " 42 ", null, 42L)]
    public void Good_input_parses_to_one_target(string? time, string? revision, string? expectedTime, long? expectedRevision)
    {
        Assert.True(PointInTimeChoice.TryParse(time, revision, out var target, out var error), error);
        Assert.Equal(expectedRevision, target!.Revision);
        Assert.Equal(expectedTime is null ? null : DateTimeOffset.Parse(expectedTime, System.Globalization.CultureInfo.InvariantCulture), target.Time);
    }

    [Theory]
    [InlineData(null, null, "give a time")]
    [InlineData("2026-12-02 10:15:07", "150", "not both")]
    [InlineData("yesterday", null, "is not a UTC time to the second")]
    [InlineData("2026-12-02 10:15", null, "is not a UTC time to the second")]
    [InlineData("2026-12-02 10:15:07+02:00", null, "is not a UTC time to the second")]
    [InlineData("2026-13-02 10:15:07", null, "is not a UTC time to the second")]
    [InlineData(null, "-5", "is not a revision")]
    [InlineData(null, "0", "is not a revision")]
    [InlineData(null, "1e3", "is not a revision")]
    [InlineData(null, "99999999999999999999", "is not a revision")]
    public void Bad_input_is_refused_with_the_reason(string? time, string? revision, string reason)
    {
        Assert.False(PointInTimeChoice.TryParse(time, revision, out var target, out var error));
        Assert.Null(target);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(100L, true)]
    [InlineData(200L, true)]
    [InlineData(250L, false)] // in the break
    [InlineData(300L, true)]
    [InlineData(400L, true)]
    [InlineData(401L, false)] // past the newest durable revision
    [InlineData(99L, false)]
    public void A_revision_is_allowed_only_inside_a_span(long revision, bool allowed)
    {
        var why = PointInTimeChoice.WhyNot(Window, PointInTimeTarget.AtRevision(revision));

        Assert.Equal(allowed, why is null);
        if (!allowed)
        {
            Assert.Contains("outside the recoverable window", why, StringComparison.Ordinal);
            Assert.Contains("revisions 300 to 400", why, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(30.0, true)]
    [InlineData(45.0, false)] // in the break
    [InlineData(90.0, true)]
    [InlineData(91.0, false)]
    [InlineData(-1.0, false)]
    public void A_time_is_allowed_only_inside_a_span(double minutesAfterT0, bool allowed)
    {
        Assert.Equal(allowed, PointInTimeChoice.WhyNot(Window, PointInTimeTarget.AtTime(T0.AddMinutes(minutesAfterT0))) is null);
    }

    [Fact]
    public void A_window_that_is_off_or_empty_allows_nothing_and_says_why()
    {
        Assert.Contains("continuous backup is off", PointInTimeChoice.WhyNot(RecoverableWindow.Off(ClusterName.Parse("prod")), PointInTimeTarget.AtRevision(150)), StringComparison.Ordinal);
        Assert.Contains("no recoverable window yet", PointInTimeChoice.WhyNot(Window with { Spans = [] }, PointInTimeTarget.AtRevision(150)), StringComparison.Ordinal);
    }
}
