using Console.Infrastructure.Sealing;
using static Console.Web.Tests.Infrastructure.Sealing.AgeTestFiles;

namespace Console.Web.Tests.Infrastructure.Sealing;

public sealed class AgeFormatTests
{
    private static readonly AgeIdentity Alice = AgeIdentity.Generate();
    private static readonly AgeIdentity Bob = AgeIdentity.Generate();
    private static readonly AgeIdentity Carol = AgeIdentity.Generate();

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(Chunk - 1, 0)]
    [InlineData(Chunk, 0)]
    [InlineData(Chunk + 1, 0)]
    [InlineData(3 * Chunk, 0)]
    [InlineData(3 * Chunk, 1000)]
    [InlineData(5_000_003, 0)]
    [InlineData(5_000_003, 7777)]
    public async Task Round_trips_and_every_recipient_opens_it_when_written_whole_or_in_pieces(int size, int piece)
    {
        var plaintext = RandomBytes(size);
        using var output = new MemoryStream();
        await using (var sealing = AgeFormat.Encrypt(output, [Alice.Recipient, Bob.Recipient], leaveOpen: true))
        {
            if (piece == 0)
            {
                await sealing.WriteAsync(plaintext);
            }
            else
            {
                for (var offset = 0; offset < size; offset += piece)
                {
                    sealing.Write(plaintext, offset, Math.Min(piece, size - offset));
                }
            }
        }
        var sealedBytes = output.ToArray();

        Assert.True(sealedBytes.AsSpan().StartsWith(AgeFormat.Magic));
        var chunks = Math.Max(1, (size + Chunk - 1) / Chunk);
        Assert.Equal(FirstChunkOffset(sealedBytes) + size + 16 * chunks, sealedBytes.Length);
        Assert.Equal(plaintext, await OpenAsync(sealedBytes, Alice));
        Assert.Equal(plaintext, await OpenAsync(sealedBytes, Carol, Bob));
    }

    [Fact]
    public async Task Reads_in_small_pieces_and_synchronously_give_the_same_bytes()
    {
        var plaintext = RandomBytes(3 * Chunk + 5);
        var sealedBytes = Seal(plaintext, Alice.Recipient);

        using var opened = await AgeFormat.OpenAsync(new MemoryStream(sealedBytes), [Alice]);
        using var collected = new MemoryStream();
        var small = new byte[1000];
        int read;
        while ((read = opened.Read(small)) > 0)
        {
            collected.Write(small, 0, read);
        }
        Assert.Equal(plaintext, collected.ToArray());
        Assert.Equal(-1, opened.ReadByte());
    }

    [Fact]
    public async Task Streams_close_what_they_wrap_unless_asked_to_leave_it_open()
    {
        var output = new MemoryStream();
        await using (var sealing = await AgeFormat.EncryptAsync(output, [Alice.Recipient]))
        {
            sealing.WriteByte(42);
        }
        Assert.False(output.CanWrite);

        var input = new MemoryStream(Seal([42], Alice.Recipient));
        await using (var opened = await AgeFormat.OpenAsync(input, [Alice]))
        {
            Assert.Equal(42, opened.ReadByte());
        }
        Assert.False(input.CanRead);
        Assert.Throws<ArgumentException>(() => AgeFormat.Encrypt(new MemoryStream(), []));
    }

    [Fact]
    public async Task A_wrong_identity_is_refused_and_the_message_counts_recipients()
    {
        var sealedBytes = Seal(RandomBytes(100), Alice.Recipient, Bob.Recipient, Carol.Recipient);

        var refused = await Assert.ThrowsAsync<AgeNoIdentityException>(() => OpenAsync(sealedBytes, AgeIdentity.Generate(), AgeIdentity.Generate()));

        Assert.Equal(3, refused.X25519Stanzas);
        Assert.Equal("none of the 2 configured identities opens this copy (it has 3 X25519 recipients)", refused.Message);
    }

    [Fact]
    public async Task A_raw_stream_is_not_an_age_file()
    {
        var refused = await Assert.ThrowsAsync<AgeException>(() => OpenAsync("etcd snapshot bytes"u8.ToArray(), Alice));
        Assert.Equal("not an age file", refused.Message);
    }

    [Fact]
    public async Task A_flipped_byte_in_a_stanza_body_unwraps_for_nobody()
    {
        var sealedBytes = Seal(RandomBytes(100), Alice.Recipient);
        // The body line follows the "-> X25519 …" line; swapping one of its middle characters keeps it canonical base64.
        var bodyLine = sealedBytes.AsSpan().IndexOf("-> X25519 "u8);
        bodyLine += sealedBytes.AsSpan(bodyLine).IndexOf((byte)'\n') + 1;
        sealedBytes[bodyLine + 10] = sealedBytes[bodyLine + 10] == (byte)'A' ? (byte)'B' : (byte)'A';

        var refused = await Assert.ThrowsAsync<AgeNoIdentityException>(() => OpenAsync(sealedBytes, Alice));
        Assert.Equal(1, refused.X25519Stanzas);
    }

    [Fact]
    public async Task A_flipped_byte_in_the_header_mac_is_an_altered_header()
    {
        var sealedBytes = Seal(RandomBytes(100), Alice.Recipient);
        var mac = sealedBytes.AsSpan().IndexOf("\n--- "u8) + 5;
        sealedBytes[mac + 10] = sealedBytes[mac + 10] == (byte)'A' ? (byte)'B' : (byte)'A';

        var refused = await Assert.ThrowsAsync<AgeException>(() => OpenAsync(sealedBytes, Alice));
        Assert.Equal("the header was altered (MAC mismatch)", refused.Message);
    }

    [Fact]
    public async Task A_stanza_argument_that_changed_is_an_altered_header()
    {
        // An extra stanza of an unknown type is ignored for unwrapping, but the MAC covers it.
        var sealedBytes = Seal(RandomBytes(100), Alice.Recipient);
        var mac = sealedBytes.AsSpan().IndexOf("\n--- "u8) + 1;
        byte[] altered = [.. sealedBytes.AsSpan(0, mac), .. "-> example.org/grease x\n\n"u8, .. sealedBytes.AsSpan(mac)];

        var refused = await Assert.ThrowsAsync<AgeException>(() => OpenAsync(altered, Alice));
        Assert.Equal("the header was altered (MAC mismatch)", refused.Message);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 4)]
    public async Task A_flipped_byte_in_a_chunk_fails_that_chunk_before_its_bytes_are_returned(int chunkIndex, int chunkNumber)
    {
        var plaintext = RandomBytes(3 * Chunk + 1000);
        var sealedBytes = Seal(plaintext, Alice.Recipient);
        sealedBytes[FirstChunkOffset(sealedBytes) + chunkIndex * SealedChunk + 500] ^= 0x01;

        using var opened = await AgeFormat.OpenAsync(new MemoryStream(sealedBytes), [Alice]);
        using var returned = new MemoryStream();
        var refused = await Assert.ThrowsAsync<AgeException>(() => opened.CopyToAsync(returned));

        Assert.StartsWith($"chunk {chunkNumber} failed authentication: the copy is tampered or corrupt", refused.Message, StringComparison.Ordinal);
        Assert.Equal(plaintext[..(chunkIndex * Chunk)], returned.ToArray());
        await Assert.ThrowsAsync<AgeException>(() => opened.ReadAsync(new byte[10]).AsTask());
    }

    [Theory]
    [InlineData(3)] // cut before the final chunk
    [InlineData(1)] // cut after the first chunk
    public async Task A_copy_cut_at_a_chunk_boundary_is_truncated(int keptChunks)
    {
        var sealedBytes = Seal(RandomBytes(3 * Chunk + 1000), Alice.Recipient);
        var cut = sealedBytes[..(FirstChunkOffset(sealedBytes) + keptChunks * SealedChunk)];

        var refused = await Assert.ThrowsAsync<AgeException>(() => OpenAsync(cut, Alice));
        Assert.Equal("the copy is truncated: its final chunk is missing", refused.Message);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(SealedChunk / 2)]
    [InlineData(SealedChunk - 1)]
    public async Task A_copy_cut_inside_a_chunk_is_truncated(int keptOfSecondChunk)
    {
        var sealedBytes = Seal(RandomBytes(3 * Chunk), Alice.Recipient);
        var cut = sealedBytes[..(FirstChunkOffset(sealedBytes) + SealedChunk + keptOfSecondChunk)];

        var refused = await Assert.ThrowsAsync<AgeException>(() => OpenAsync(cut, Alice));
        Assert.Contains("truncated", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_copy_cut_inside_the_header_or_nonce_is_truncated()
    {
        var sealedBytes = Seal(RandomBytes(10), Alice.Recipient);

        var inHeader = await Assert.ThrowsAsync<AgeException>(() => OpenAsync(sealedBytes[..40], Alice));
        var inNonce = await Assert.ThrowsAsync<AgeException>(() => OpenAsync(sealedBytes[..(FirstChunkOffset(sealedBytes) - 3)], Alice));

        Assert.Contains("truncated", inHeader.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", inNonce.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_after_a_full_final_chunk_is_refused()
    {
        var sealedBytes = Seal(RandomBytes(2 * Chunk), Alice.Recipient);

        var refused = await Assert.ThrowsAsync<AgeException>(() => OpenAsync([.. sealedBytes, .. "trailing"u8], Alice));
        Assert.Equal("data after the final chunk", refused.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(Chunk + 1000)]
    public async Task Data_after_a_short_final_chunk_is_refused(int size)
    {
        var sealedBytes = Seal(RandomBytes(size), Alice.Recipient);

        await Assert.ThrowsAsync<AgeException>(() => OpenAsync([.. sealedBytes, 0x42], Alice));
    }

    [Fact]
    public async Task An_empty_final_chunk_after_a_full_one_is_refused()
    {
        // What a careless writer produces for exactly one chunk: flushing it as a middle chunk, then an empty final.
        var sealedBytes = SealedWithEmptyFinalChunk(RandomBytes(Chunk), Alice.Recipient);

        var refused = await Assert.ThrowsAsync<AgeException>(() => OpenAsync(sealedBytes, Alice));
        Assert.Contains("empty final chunk", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("padding")]
    [InlineData("stray bits")]
    [InlineData("long body line")]
    [InlineData("CRLF")]
    [InlineData("no stanza")]
    public async Task A_header_that_is_not_strictly_canonical_is_malformed(string flaw)
    {
        var sealedBytes = Seal(RandomBytes(10), Alice.Recipient);
        var text = System.Text.Encoding.Latin1.GetString(sealedBytes);
        var macLine = text.IndexOf("\n--- ", StringComparison.Ordinal) + 1;
        var macEnd = text.IndexOf('\n', macLine);
        var stanza = text.IndexOf("-> X25519 ", StringComparison.Ordinal);
        var bodyEnd = text.IndexOf('\n', text.IndexOf('\n', stanza) + 1);
        var altered = flaw switch
        {
            "padding" => text.Insert(macEnd, "="),
            // The MAC's last character carries 2 unused bits: set one and the base64 is no longer canonical.
            "stray bits" => text[..(macEnd - 1)] + FlipLowBit(text[macEnd - 1]) + text[macEnd..],
            "long body line" => text.Insert(bodyEnd, new string('A', 30)),
            "CRLF" => text.Insert(text.IndexOf('\n', stanza), "\r"),
            _ => text[..stanza] + text[(bodyEnd + 1)..],
        };

        var refused = await Assert.ThrowsAsync<AgeException>(() => OpenAsync(System.Text.Encoding.Latin1.GetBytes(altered), Alice));
        Assert.IsNotType<AgeNoIdentityException>(refused);
        Assert.Contains("the age header is malformed", refused.Message, StringComparison.Ordinal);
    }

    private static char FlipLowBit(char base64Char)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        return Alphabet[Alphabet.IndexOf(base64Char, StringComparison.Ordinal) ^ 1];
    }

    /// <summary>Builds a non-canonical file by hand from the spec's primitives: one full middle chunk, then an empty final one.</summary>
    private static byte[] SealedWithEmptyFinalChunk(byte[] oneChunk, AgeRecipient recipient)
    {
        var fileKey = RandomBytes(16);
        var (share, body) = recipient.Wrap(fileKey);
        var covered = AgeHeader.Write([new AgeStanza(["X25519", AgeHeader.ToBase64(share)], body)]);
        var macKey = System.Security.Cryptography.HKDF.DeriveKey(System.Security.Cryptography.HashAlgorithmName.SHA256, fileKey, 32, [], "header"u8.ToArray());
        var mac = System.Security.Cryptography.HMACSHA256.HashData(macKey, covered);
        var nonce = RandomBytes(16);
        using var aead = new System.Security.Cryptography.ChaCha20Poly1305(AgeFormat.PayloadKey(fileKey, nonce));
        var middle = new byte[Chunk + 16];
        var final = new byte[16];
        var chunkNonce = new byte[12];
        AgeFormat.ChunkNonce(chunkNonce, 0, last: false);
        aead.Encrypt(chunkNonce, oneChunk, middle.AsSpan(0, Chunk), middle.AsSpan(Chunk));
        AgeFormat.ChunkNonce(chunkNonce, 1, last: true);
        aead.Encrypt(chunkNonce, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, final);
        return [.. covered, .. System.Text.Encoding.ASCII.GetBytes($" {AgeHeader.ToBase64(mac)}\n"), .. nonce, .. middle, .. final];
    }
}
