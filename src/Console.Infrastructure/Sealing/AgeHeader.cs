using System.Buffers.Text;
using System.Text;

namespace Console.Infrastructure.Sealing;

/// <summary>One recipient stanza: "-> type args…" and its wrapped body.</summary>
internal sealed record AgeStanza(IReadOnlyList<string> Arguments, byte[] Body);

/// <summary>
/// The textual age header, written and read strictly: LF line ends, canonical unpadded base64, bodies wrapped at
/// 64 columns and ended by a shorter line. Reading keeps the raw bytes, since the MAC covers them as written.
/// </summary>
internal sealed class AgeHeader
{
    private const int BodyColumns = 64;
    // No real header comes near this (a stanza is ~110 bytes); the limit keeps a hostile file from filling memory.
    private const int MaxHeaderBytes = 1 << 20;
    private const int ReadBlock = 8192;

    private AgeHeader(byte[] bytes, int macCoverage, byte[] mac, IReadOnlyList<AgeStanza> stanzas, int payloadStart, int length)
    {
        Bytes = bytes;
        MacCoverage = macCoverage;
        Mac = mac;
        Stanzas = stanzas;
        PayloadStart = payloadStart;
        Length = length;
    }

    /// <summary>The bytes read so far: the header, then possibly the start of the payload.</summary>
    public byte[] Bytes { get; }

    /// <summary>How many leading bytes of <see cref="Bytes"/> the MAC covers (up to and including "---").</summary>
    public int MacCoverage { get; }

    public byte[] Mac { get; }

    public IReadOnlyList<AgeStanza> Stanzas { get; }

    /// <summary>Where the payload starts in <see cref="Bytes"/>; bytes from there to <see cref="Length"/> were read ahead.</summary>
    public int PayloadStart { get; }

    public int Length { get; }

    /// <summary>The header up to and including "---", before its MAC is known.</summary>
    public static byte[] Write(IReadOnlyList<AgeStanza> stanzas)
    {
        var text = new StringBuilder();
        text.Append("age-encryption.org/v1\n");
        foreach (var stanza in stanzas)
        {
            text.Append("->");
            foreach (var argument in stanza.Arguments)
            {
                text.Append(' ').Append(argument);
            }
            text.Append('\n');
            var body = ToBase64(stanza.Body);
            var offset = 0;
            // Full lines of 64, then a shorter (possibly empty) final line that ends the body.
            while (body.Length - offset >= BodyColumns)
            {
                text.Append(body, offset, BodyColumns).Append('\n');
                offset += BodyColumns;
            }
            text.Append(body, offset, body.Length - offset).Append('\n');
        }
        text.Append("---");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    public static string ToBase64(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    /// <summary>Decodes canonical unpadded base64 (RFC 4648 3.5): no padding, no stray bits, no other characters.</summary>
    public static bool TryFromBase64(ReadOnlySpan<byte> text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 == 1)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!IsBase64Char(c))
            {
                return false;
            }
        }
        var padded = new byte[(text.Length + 3) / 4 * 4];
        text.CopyTo(padded);
        padded.AsSpan(text.Length).Fill((byte)'=');
        var decoded = new byte[padded.Length / 4 * 3];
        if (Base64.DecodeFromUtf8(padded, decoded, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }
        decoded = decoded[..written];
        // Canonical: encoding again gives the same text (the unused low bits of the last character are zero).
        if (!Encoding.ASCII.GetBytes(ToBase64(decoded)).AsSpan().SequenceEqual(text))
        {
            return false;
        }
        bytes = decoded;
        return true;
    }

    public static async Task<AgeHeader> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        var buffer = new byte[ReadBlock];
        var length = 0;
        var eof = false;

        async Task<bool> ReadMoreAsync()
        {
            if (eof)
            {
                return false;
            }
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxHeaderBytes)
                {
                    throw new AgeException("the age header is malformed: longer than 1 MiB");
                }
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            var read = await input.ReadAsync(buffer.AsMemory(length, Math.Min(ReadBlock, buffer.Length - length)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                eof = true;
                return false;
            }
            length += read;
            return true;
        }

        var magic = AgeFormat.Magic.Length;
        while (length < magic && await ReadMoreAsync().ConfigureAwait(false))
        {
        }
        if (length < magic || !buffer.AsSpan(0, magic).SequenceEqual(AgeFormat.Magic))
        {
            throw new AgeException("not an age file");
        }

        // Returns the index of the next line's LF, reading more as needed.
        async Task<int> NextLineEndAsync(int start)
        {
            var searched = start;
            while (true)
            {
                var found = buffer.AsSpan(searched, length - searched).IndexOf((byte)'\n');
                if (found >= 0)
                {
                    return searched + found;
                }
                searched = length;
                if (!await ReadMoreAsync().ConfigureAwait(false))
                {
                    throw new AgeException("the copy is truncated: its age header is incomplete");
                }
            }
        }

        var stanzas = new List<AgeStanza>();
        var position = magic;
        while (true)
        {
            var end = await NextLineEndAsync(position).ConfigureAwait(false);
            var line = buffer.AsSpan(position, end - position);
            if (line.StartsWith("---"u8))
            {
                if (stanzas.Count == 0)
                {
                    throw Malformed("no recipient stanza");
                }
                if (line.Length != 4 + 43 || line[3] != (byte)' ' || !TryFromBase64(line[4..], out var mac) || mac.Length != 32)
                {
                    throw Malformed("bad MAC line");
                }
                return new AgeHeader(buffer, position + 3, mac, stanzas, end + 1, length);
            }
            if (!line.StartsWith("-> "u8))
            {
                throw Malformed($"unexpected line {LineNumber(buffer, position)}");
            }
            var arguments = ParseArguments(line[3..], LineNumber(buffer, position));
            position = end + 1;

            using var body = new MemoryStream();
            while (true)
            {
                end = await NextLineEndAsync(position).ConfigureAwait(false);
                line = buffer.AsSpan(position, end - position);
                if (line.Length > BodyColumns || !AllBase64(line))
                {
                    throw Malformed($"bad stanza body at line {LineNumber(buffer, position)}");
                }
                body.Write(line);
                position = end + 1;
                if (line.Length < BodyColumns)
                {
                    break;
                }
            }
            if (!TryFromBase64(body.GetBuffer().AsSpan(0, (int)body.Length), out var decoded))
            {
                throw Malformed("a stanza body is not canonical base64");
            }
            stanzas.Add(new AgeStanza(arguments, decoded));
        }
    }

    private static string[] ParseArguments(ReadOnlySpan<byte> text, int lineNumber)
    {
        var arguments = new List<string>();
        foreach (var range in text.Split((byte)' '))
        {
            var argument = text[range];
            if (argument.IsEmpty)
            {
                throw Malformed($"empty stanza argument at line {lineNumber}");
            }
            foreach (var c in argument)
            {
                if (c < 0x21 || c > 0x7e)
                {
                    throw Malformed($"invalid character in a stanza argument at line {lineNumber}");
                }
            }
            arguments.Add(Encoding.ASCII.GetString(argument));
        }
        return [.. arguments];
    }

    private static bool AllBase64(ReadOnlySpan<byte> text)
    {
        foreach (var c in text)
        {
            if (!IsBase64Char(c))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsBase64Char(byte c) =>
        c is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'+' or (byte)'/';

    private static int LineNumber(byte[] buffer, int position) => buffer.AsSpan(0, position).Count((byte)'\n') + 1;

    private static AgeException Malformed(string detail) => new($"the age header is malformed: {detail}");
}
