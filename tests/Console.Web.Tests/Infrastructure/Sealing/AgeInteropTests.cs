using Console.Infrastructure.Sealing;
using Console.Web.Tests.Fixtures;
using static Console.Web.Tests.Infrastructure.Sealing.AgeTestFiles;

namespace Console.Web.Tests.Infrastructure.Sealing;

/// <summary>Interoperability both ways with Debian's age (1.1.1): an operator opens a sealed copy without the console.</summary>
public sealed class AgeInteropTests
{
    private const string Age = "/usr/bin/age";
    private const string AgeKeygen = "/usr/bin/age-keygen";

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(2 * Chunk)]
    [InlineData(2 * Chunk + 1)]
    [InlineData(5_000_003)]
    public async Task Age_opens_what_we_sealed_byte_identical(int size)
    {
        using var scratch = new TestDirectory("age-interop");
        var keyFile = scratch.Combine("key.txt");
        await RunAsync(AgeKeygen, "-o", keyFile);
        var identity = Assert.Single(AgeIdentity.ReadFile(keyFile));
        var plaintext = RandomBytes(size);
        var sealedFile = scratch.Combine("copy.db.age");
        await using (var output = File.Create(sealedFile))
        await using (var sealing = AgeFormat.Encrypt(output, [AgeIdentity.Generate().Recipient, identity.Recipient]))
        {
            await sealing.WriteAsync(plaintext);
        }

        var openedFile = scratch.Combine("copy.db");
        await RunAsync(Age, "-d", "-i", keyFile, "-o", openedFile, sealedFile);

        // age creates its output on the first write: an empty payload leaves no file, and its exit 0 says it verified.
        Assert.Equal(plaintext, File.Exists(openedFile) ? await File.ReadAllBytesAsync(openedFile) : []);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(2 * Chunk)]
    [InlineData(5_000_003)]
    public async Task We_open_what_age_sealed_to_a_recipient(int size)
    {
        using var scratch = new TestDirectory("age-interop");
        var identity = AgeIdentity.Generate();
        var plaintext = RandomBytes(size);
        var plainFile = scratch.Combine("copy.db");
        await File.WriteAllBytesAsync(plainFile, plaintext);
        var sealedFile = scratch.Combine("copy.db.age");

        await RunAsync(Age, "-r", identity.Recipient.Text, "-o", sealedFile, plainFile);

        await using var opened = await AgeFormat.OpenAsync(File.OpenRead(sealedFile), [identity]);
        using var collected = new MemoryStream();
        await opened.CopyToAsync(collected);
        Assert.Equal(plaintext, collected.ToArray());
    }

    [Fact]
    public async Task We_open_what_age_sealed_to_a_recipients_file_with_either_key()
    {
        using var scratch = new TestDirectory("age-interop");
        var keyFile = scratch.Combine("key.txt");
        await RunAsync(AgeKeygen, "-o", keyFile);
        var theirs = Assert.Single(AgeIdentity.ReadFile(keyFile));
        var ours = AgeIdentity.Generate();
        var recipientsFile = scratch.Combine("recipients.txt");
        await File.WriteAllTextAsync(recipientsFile, $"# rotation: old and new\n{theirs.Recipient.Text}\n{ours.Recipient.Text}\n");
        var plaintext = RandomBytes(3 * Chunk + 17);
        var plainFile = scratch.Combine("copy.db");
        await File.WriteAllBytesAsync(plainFile, plaintext);
        var sealedFile = scratch.Combine("copy.db.age");

        await RunAsync(Age, "-R", recipientsFile, "-o", sealedFile, plainFile);
        var sealedBytes = await File.ReadAllBytesAsync(sealedFile);

        Assert.Equal(plaintext, await OpenAsync(sealedBytes, theirs));
        Assert.Equal(plaintext, await OpenAsync(sealedBytes, ours));
        var refused = await Assert.ThrowsAsync<AgeNoIdentityException>(() => OpenAsync(sealedBytes, AgeIdentity.Generate()));
        Assert.Equal(2, refused.X25519Stanzas);
    }

    [Fact]
    public async Task Our_keys_are_age_keys_and_age_keygen_keys_are_ours()
    {
        using var scratch = new TestDirectory("age-interop");
        // age-keygen's identity: its public key, as age-keygen -y prints it, is the recipient we derive.
        var keygenFile = scratch.Combine("keygen.txt");
        await RunAsync(AgeKeygen, "-o", keygenFile);
        var printed = (await RunAsync(AgeKeygen, "-y", keygenFile)).Trim();
        Assert.True(AgeRecipient.TryParse(printed, out var parsed, out var error), error);
        Assert.Equal(parsed.Text, Assert.Single(AgeIdentity.ReadFile(keygenFile)).Recipient.Text);

        // Our generated identity, in our Bech32, works with age end to end: it seals to our recipient and opens with our secret.
        var ours = AgeIdentity.Generate();
        var ourKeyFile = scratch.Combine("ours.txt");
        await File.WriteAllTextAsync(ourKeyFile, $"# public key: {ours.Recipient.Text}\n{ours.ToSecretString()}\n");
        Assert.Equal(ours.Recipient.Text, (await RunAsync(AgeKeygen, "-y", ourKeyFile)).Trim());
        var plainFile = scratch.Combine("plain");
        await File.WriteAllBytesAsync(plainFile, RandomBytes(1234));
        await RunAsync(Age, "-r", ours.Recipient.Text, "-o", scratch.Combine("sealed.age"), plainFile);
        await RunAsync(Age, "-d", "-i", ourKeyFile, "-o", scratch.Combine("opened"), scratch.Combine("sealed.age"));
        Assert.Equal(await File.ReadAllBytesAsync(plainFile), await File.ReadAllBytesAsync(scratch.Combine("opened")));
    }
}
