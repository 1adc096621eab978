using Console.Domain.Configuration;

namespace Console.Web.Tests.Domain.Configuration;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 30 * 60)]
    [InlineData("6h", 6 * 3600)]
    [InlineData("1d", 86400)]
    [InlineData("2w", 14 * 86400)]
    [InlineData("06:00:00", 6 * 3600)]
    [InlineData("1.00:00:00", 86400)]
    [InlineData(" 45m ", 45 * 60)]
    [InlineData("-5m", -300)]
    public void Parses_operator_durations(string text, int seconds)
    {
        Assert.True(DurationText.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("h")]
    [InlineData("six hours")]
    [InlineData("5x")]
    [InlineData("1.5h")]
    [InlineData("99999999999d")]
    [InlineData("-99999999999w")]
    public void Refuses_what_is_not_a_duration(string? text) => Assert.False(DurationText.TryParse(text, out _));

    [Theory]
    [InlineData(6 * 3600, "6h")]
    [InlineData(90 * 60, "90m")]
    [InlineData(86400, "1d")]
    [InlineData(14 * 86400, "2w")]
    [InlineData(61, "61s")]
    public void Formats_in_the_largest_exact_unit(int seconds, string expected) =>
        Assert.Equal(expected, DurationText.Format(TimeSpan.FromSeconds(seconds)));
}
