using Console.Domain.Access;
using Console.Domain.Configuration;

namespace Console.Web.Tests.Domain.Access;

public sealed class KnownProxyTests
{
    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1/32")]
    [InlineData(" 10.0.0.5 ", "10.0.0.5/32")]
    [InlineData("::1", "::1/128")]
    [InlineData("10.0.0.0/24", "10.0.0.0/24")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    public void An_address_or_a_network_is_a_known_proxy(string text, string network)
    {
        Assert.True(KnownProxy.TryParse(text, out var parsed, out var error), error);
        Assert.Equal(network, parsed.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("proxy.example.com")]
    [InlineData("10.0.0.300")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.1/24")]
    [InlineData("10.0.0.0/")]
    public void Anything_else_is_refused_with_a_reason(string text)
    {
        Assert.False(KnownProxy.TryParse(text, out _, out var error));
        Assert.Contains("IP address or a CIDR network", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_configuration_validator_names_every_bad_entry()
    {
        var settings = new ConsoleSettings { Auth = new() { KnownProxies = ["127.0.0.1", "proxy.local", "10.0.0.0/8", "10.1.2.3/8"] } };

        var errors = ConsoleSettingsValidator.Validate(settings, _ => true);

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Console:Auth:KnownProxies:1", StringComparison.Ordinal) && e.Contains("proxy.local", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Console:Auth:KnownProxies:3", StringComparison.Ordinal) && e.Contains("10.1.2.3/8", StringComparison.Ordinal));
    }
}
