using Console.Domain.Configuration;

namespace Console.Web.Tests.Domain.Alerts;

public sealed class AlertSettingsValidatorTests
{
    private const string Token = "xoxb-T0KEN-in-the-path";

    private static IReadOnlyList<string> Validate(AlertSettings alerts) =>
        ConsoleSettingsValidator.Validate(new ConsoleSettings { Alerts = alerts }, _ => true);

    private static AlertChannelSettings Hook(string name = "ops", string? url = "https://hooks.example.com/services/" + Token) => new() { Name = name, Kind = "webhook", Url = url };

    private static AlertChannelSettings Mail(SmtpSettings smtp) => new() { Name = "mail", Kind = "email", Smtp = smtp };

    [Fact]
    public void Defaults_and_good_channels_are_valid() => Assert.Empty(Validate(new AlertSettings
    {
        Channels = [Hook(), Hook("chat") with { Kind = "slack" }, Mail(new SmtpSettings { Host = "mail.example.com", From = "c@example.com", To = ["a@example.com"], User = "u", Password = "p" })],
        RpoThreshold = "5m",
        ConsoleUrl = "https://console.example.com",
    }));

    [Fact]
    public void Every_problem_is_listed_at_once_and_no_url_is_quoted()
    {
        var errors = Validate(new AlertSettings
        {
            Channels =
            [
                Hook(),
                Hook("OPS"),
                Hook("bad-url", "ftp://hooks.example.com/" + Token),
                Hook("relative", "/services/" + Token),
                new() { Name = "pager", Kind = "pagerduty" },
                new() { Kind = "webhook", Url = "https://x.example.com/" },
                Mail(new SmtpSettings { Port = 0, From = "nobody", To = ["also nobody"], Password = "p" }),
            ],
            ConsecutiveFailures = 0,
            RpoThreshold = "soon",
            EvaluateEvery = "100ms",
            Retry = new AlertRetrySettings { Attempts = 0, FirstDelay = "never", MaxDelay = "0s" },
            ConsoleUrl = "console.example.com",
        });

        string[] expected =
        [
            "Console:Alerts:ConsecutiveFailures must be at least 1 (was 0).",
            "Console:Alerts:RpoThreshold: 'soon' is not a positive duration",
            "Console:Alerts:EvaluateEvery: '100ms' is not a duration of at least 1s",
            "Console:Alerts:Retry:Attempts must be between 1 and 100 (was 0).",
            "Console:Alerts:Retry:FirstDelay: 'never' is not a positive duration",
            "Console:Alerts:Retry:MaxDelay: '0s' is not a positive duration",
            "Console:Alerts:ConsoleUrl: 'console.example.com' is not an absolute http(s) URL.",
            "Console:Alerts:Channels:1 ('OPS'): the name 'OPS' is used by more than one channel.",
            "Console:Alerts:Channels:2 ('bad-url'):Url must be an absolute http(s) URL",
            "Console:Alerts:Channels:3 ('relative'):Url must be an absolute http(s) URL",
            "Console:Alerts:Channels:4 ('pager'):Kind: 'pagerduty' is not one of",
            "Console:Alerts:Channels:5:Name must not be empty.",
            "Console:Alerts:Channels:6 ('mail'):Smtp:Host must name the SMTP server.",
            "Console:Alerts:Channels:6 ('mail'):Smtp:Port must be between 1 and 65535 (was 0).",
            "Console:Alerts:Channels:6 ('mail'):Smtp:From: 'nobody' is not an e-mail address.",
            "Console:Alerts:Channels:6 ('mail'):Smtp:To: 'also nobody' is not an e-mail address.",
            "Console:Alerts:Channels:6 ('mail'):Smtp: a Password needs a User.",
        ];
        foreach (var message in expected)
        {
            Assert.Contains(errors, e => e.StartsWith(message, StringComparison.Ordinal));
        }

        Assert.Equal(expected.Length, errors.Count);
        Assert.All(errors, e => Assert.DoesNotContain(Token, e, StringComparison.Ordinal));
    }

    [Fact]
    public void Settings_print_the_url_as_its_host_and_the_password_masked()
    {
        var settings = new ConsoleSettings
        {
            Alerts = new AlertSettings { Channels = [Hook(), Mail(new SmtpSettings { Host = "mail.example.com", User = "u", Password = "hunter2-smtp", From = "c@example.com", To = ["a@example.com"] })] },
        };

        var text = settings.ToString();

        Assert.Contains("Url = https://hooks.example.com/…", text, StringComparison.Ordinal);
        Assert.Contains("Password = ***", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, text, StringComparison.Ordinal);
        Assert.DoesNotContain("/services", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-smtp", text, StringComparison.Ordinal);
    }
}
