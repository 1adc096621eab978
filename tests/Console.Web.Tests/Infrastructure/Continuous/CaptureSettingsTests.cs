using Console.Domain.Configuration;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Continuous;

/// <summary>Backup:Continuous is checked with the rest of the configuration: every problem listed, startup refused.</summary>
public sealed class CaptureSettingsTests
{
    private static IReadOnlyList<string> Validate(ContinuousSettings continuous) =>
        ConsoleSettingsValidator.Validate(
            new ConsoleSettings { Clusters = [new() { Name = "prod", Endpoints = ["http://10.0.0.1:2379"], Backup = new() { Targets = ["local"], Continuous = continuous } }] },
            _ => true);

    [Theory]
    [InlineData("1s", 8L << 20)]
    [InlineData("10s", 64L << 10)]
    [InlineData("00:00:00.250", 256L << 20)]
    public void Valid_settings_pass(string flush, long maxBytes) =>
        Assert.Empty(Validate(new ContinuousSettings { Enabled = true, FlushInterval = flush, MaxSegmentBytes = maxBytes }));

    [Theory]
    [InlineData("11s", 8L << 20, "FlushInterval must be more than 0 and at most 10s (was 11s)")]
    [InlineData("0", 8L << 20, "FlushInterval must be more than 0")]
    [InlineData("-1s", 8L << 20, "FlushInterval must be more than 0")]
    [InlineData("soon", 8L << 20, "FlushInterval: 'soon' is not a duration")]
    [InlineData("1s", 1024L, "MaxSegmentBytes must be between 65536 and 268435456 (was 1024)")]
    [InlineData("1s", 1L << 30, "MaxSegmentBytes must be between 65536 and 268435456 (was 1073741824)")]
    public void Each_bad_value_is_named_with_its_path(string flush, long maxBytes, string expected)
    {
        var error = Assert.Single(Validate(new ContinuousSettings { Enabled = true, FlushInterval = flush, MaxSegmentBytes = maxBytes }));
        Assert.StartsWith("Console:Clusters:0 ('prod'):Backup:Continuous:", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_is_refused_with_every_continuous_problem_listed_at_once()
    {
        using var data = new TestDirectory("continuous-settings");
        var environment = new Dictionary<string, string>
        {
            ["Console__DataDir"] = data.Path,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Console.Infrastructure.Sandbox.FreePorts.Pick(1)[0]}",
            ["Console__Clusters__0__Name"] = "prod",
            ["Console__Clusters__0__Endpoints__0"] = "http://127.0.0.1:9",
            ["Console__Clusters__0__Backup__Targets__0"] = "local",
            ["Console__Clusters__0__Backup__Continuous__Enabled"] = "true",
            ["Console__Clusters__0__Backup__Continuous__FlushInterval"] = "garbage",
            ["Console__Clusters__0__Backup__Continuous__MaxSegmentBytes"] = "10",
            ["Console__Clusters__1__Name"] = "stage",
            ["Console__Clusters__1__Endpoints__0"] = "http://127.0.0.1:9",
            ["Console__Clusters__1__Backup__Targets__0"] = "local",
            ["Console__Clusters__1__Backup__Continuous__Enabled"] = "true",
            ["Console__Clusters__1__Backup__Continuous__FlushInterval"] = "1m",
        };
        using var console = ConsoleProcess.Start(environment);

        Assert.NotEqual(0, await console.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        Assert.Contains("The configuration is invalid (3 problem(s))", console.Error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:0 ('prod'):Backup:Continuous:FlushInterval: 'garbage' is not a duration", console.Error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:0 ('prod'):Backup:Continuous:MaxSegmentBytes must be between", console.Error, StringComparison.Ordinal);
        Assert.Contains("Console:Clusters:1 ('stage'):Backup:Continuous:FlushInterval must be more than 0 and at most 10s (was 1m)", console.Error, StringComparison.Ordinal);
    }
}
