namespace Console.Infrastructure.Sealing;

/// <summary>
/// Bech32 (BIP 173, not Bech32m) as age uses it for keys: without BIP 173's 90-character limit, one case only.
/// </summary>
internal static class Bech32
{
    private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private static readonly uint[] Generator = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

    /// <summary>Encodes <paramref name="data"/> under <paramref name="hrp"/> in lower case.</summary>
    public static string Encode(string hrp, ReadOnlySpan<byte> data)
    {
        var lowerHrp = hrp.ToLowerInvariant();
        var groups = new byte[(data.Length * 8 + 4) / 5];
        var count = 0;
        var accumulator = 0;
        var bits = 0;
        foreach (var b in data)
        {
            accumulator = (accumulator << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                groups[count++] = (byte)((accumulator >> bits) & 31);
            }
        }
        if (bits > 0)
        {
            groups[count++] = (byte)((accumulator << (5 - bits)) & 31);
        }

        var polymod = Polymod(lowerHrp, groups, [0, 0, 0, 0, 0, 0]) ^ 1;
        var text = new char[lowerHrp.Length + 1 + groups.Length + 6];
        lowerHrp.CopyTo(0, text, 0, lowerHrp.Length);
        var position = lowerHrp.Length;
        text[position++] = '1';
        foreach (var g in groups)
        {
            text[position++] = Charset[g];
        }
        for (var i = 0; i < 6; i++)
        {
            text[position++] = Charset[(int)((polymod >> (5 * (5 - i))) & 31)];
        }
        Array.Clear(groups);
        return new string(text);
    }

    /// <summary>
    /// Decodes <paramref name="text"/>; the human-readable part comes back in the case it was written in, so the
    /// caller decides which case its key type allows (age: "age" lower case, "AGE-SECRET-KEY-" upper case).
    /// </summary>
    public static bool TryDecode(string text, out string hrp, out byte[] data, out string error)
    {
        hrp = "";
        data = [];
        if (!string.Equals(text, text.ToLowerInvariant(), StringComparison.Ordinal)
            && !string.Equals(text, text.ToUpperInvariant(), StringComparison.Ordinal))
        {
            error = "mixed case";
            return false;
        }
        var separator = text.LastIndexOf('1');
        if (separator < 1 || separator + 7 > text.Length)
        {
            error = "no Bech32 separator or too short";
            return false;
        }
        foreach (var c in text.AsSpan(0, separator))
        {
            if (c < 33 || c > 126)
            {
                error = "invalid character in the prefix";
                return false;
            }
        }

        var lower = text.ToLowerInvariant();
        var groups = new byte[text.Length - separator - 1];
        for (var i = 0; i < groups.Length; i++)
        {
            var value = Charset.IndexOf(lower[separator + 1 + i], StringComparison.Ordinal);
            if (value < 0)
            {
                error = "invalid Bech32 character";
                return false;
            }
            groups[i] = (byte)value;
        }
        if (Polymod(lower[..separator], groups, []) != 1)
        {
            error = "bad checksum";
            return false;
        }

        var payload = groups.AsSpan(0, groups.Length - 6);
        var bytes = new byte[payload.Length * 5 / 8];
        var count = 0;
        var accumulator = 0;
        var bits = 0;
        foreach (var g in payload)
        {
            accumulator = (accumulator << 5) | g;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes[count++] = (byte)((accumulator >> bits) & 0xff);
            }
        }
        Array.Clear(groups);
        // Canonical encodings pad with fewer than five zero bits.
        if (bits >= 5 || (accumulator & ((1 << bits) - 1)) != 0)
        {
            Array.Clear(bytes);
            error = "invalid padding";
            return false;
        }

        hrp = text[..separator];
        data = bytes;
        error = "";
        return true;
    }

    private static uint Polymod(string hrp, ReadOnlySpan<byte> groups, ReadOnlySpan<byte> tail)
    {
        uint checksum = 1;
        foreach (var c in hrp)
        {
            checksum = Step(checksum, (uint)c >> 5);
        }
        checksum = Step(checksum, 0);
        foreach (var c in hrp)
        {
            checksum = Step(checksum, (uint)c & 31);
        }
        foreach (var g in groups)
        {
            checksum = Step(checksum, g);
        }
        foreach (var g in tail)
        {
            checksum = Step(checksum, g);
        }
        return checksum;
    }

    private static uint Step(uint checksum, uint value)
    {
        var top = checksum >> 25;
        checksum = ((checksum & 0x1ffffff) << 5) ^ value;
        for (var i = 0; i < 5; i++)
        {
            if (((top >> i) & 1) != 0)
            {
                checksum ^= Generator[i];
            }
        }
        return checksum;
    }
}
