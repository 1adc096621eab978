using System.Security.Cryptography;
using Console.Infrastructure.Sealing;
using Console.Web.Tests.Fixtures;

namespace Console.Web.Tests.Infrastructure.Sealing;

public sealed class AgeKeysTests
{
    // The X25519 example from the age specification (c2sp.org/age): this identity's recipient.
    private const string SpecIdentity = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
    private const string SpecRecipient = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

    [Fact]
    public void The_specification_example_identity_has_the_specification_example_recipient()
    {
        var identity = Assert.Single(AgeIdentity.ParseFile(SpecIdentity));

        Assert.Equal(SpecRecipient, identity.Recipient.Text);
        Assert.Equal(SpecIdentity, identity.ToSecretString());
    }

    [Fact]
    public void A_recipient_has_a_fingerprint_of_its_public_key()
    {
        Assert.True(AgeRecipient.TryParse(SpecRecipient, out var recipient, out _));
        Assert.True(Bech32.TryDecode(SpecRecipient, out _, out var publicKey, out _));

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16], recipient.Fingerprint);
        Assert.Matches("^sha256:[0-9a-f]{16}$", recipient.Fingerprint);
        Assert.NotEqual(recipient.Fingerprint, AgeIdentity.Generate().Recipient.Fingerprint);
        Assert.Equal(SpecRecipient, recipient.ToString());
    }

    [Theory]
    [InlineData(SpecRecipient + "b", "invalid Bech32 character")]
    [InlineData("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwk", "bad checksum")]
    [InlineData("AGE1ZVKYG2LQZRAA2LNJVQEJ32NKUU0UES2S82HZRYE869XEEXVN73EQUNUJWJ", "lower case")]
    [InlineData("Age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj", "mixed case")]
    [InlineData(SpecIdentity, "prefix")]
    [InlineData("", "empty")]
    [InlineData(null, "empty")]
    public void A_bad_recipient_is_refused_in_words(string? text, string reason)
    {
        Assert.False(AgeRecipient.TryParse(text, out var recipient, out var error));

        Assert.Null(recipient);
        Assert.StartsWith("not an age X25519 recipient (age1…): ", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_identity_file_skips_comments_and_blank_lines()
    {
        var first = AgeIdentity.Generate();
        var second = AgeIdentity.Generate();
        var text = $"# created: 2026-12-02T08:00:00Z\r\n# public key: {first.Recipient}\r\n{first.ToSecretString()}\r\n\n  {second.ToSecretString()}  \n";

        var identities = AgeIdentity.ParseFile(text);

        Assert.Equal([first.Recipient.Text, second.Recipient.Text], identities.Select(identity => identity.Recipient.Text));
    }

    [Fact]
    public void A_bad_line_in_an_identity_file_is_named_by_number_without_its_content()
    {
        var good = AgeIdentity.Generate().ToSecretString();
        var typo = AgeIdentity.Generate().ToSecretString();
        typo = typo[..30] + (typo[30] == 'Q' ? 'P' : 'Q') + typo[31..];
        using var scratch = new TestDirectory("age-keys");
        var path = scratch.Combine("identity.txt");
        File.WriteAllText(path, $"# keys\n{good}\n\n{typo}\n");

        var parsing = Assert.Throws<FormatException>(() => AgeIdentity.ParseFile(File.ReadAllText(path)));
        var reading = Assert.Throws<FormatException>(() => AgeIdentity.ReadFile(path));

        foreach (var message in new[] { parsing.Message, reading.Message })
        {
            Assert.Contains("line 4", message, StringComparison.Ordinal);
            Assert.DoesNotContain(typo[15..], message, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(good[15..], message, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains(path, reading.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_identity_file_without_keys_is_refused()
    {
        Assert.Throws<FormatException>(() => AgeIdentity.ParseFile("# nothing here\n\n"));
    }

    [Fact]
    public void An_identity_never_shows_its_secret()
    {
        var identity = AgeIdentity.Generate();
        var secret = identity.ToSecretString();

        Assert.StartsWith("AGE-SECRET-KEY-1", secret, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[15..], identity.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(identity.Recipient.Text, identity.ToString(), StringComparison.Ordinal);
    }
}
