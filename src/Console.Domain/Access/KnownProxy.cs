using System.Net;

namespace Console.Domain.Access;

/// <summary>
/// A reverse proxy whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> the console believes
/// (<c>Console:Auth:KnownProxies</c>): one address (<c>10.0.0.5</c>, <c>::1</c>) or a CIDR network (<c>10.0.0.0/24</c>).
/// </summary>
public static class KnownProxy
{
    public static bool TryParse(string? text, out IPNetwork network, out string error)
    {
        network = default;
        var trimmed = text?.Trim() ?? "";
        if (!trimmed.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(trimmed, out var address) && IsPlainAddress(trimmed))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            error = "";
            return true;
        }

        // A base address with bits set past the prefix ("10.0.0.1/24") is refused: it is a typo more often than not.
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && IPNetwork.TryParse(trimmed, out network) && IPAddress.TryParse(trimmed[..slash], out var start) && network.BaseAddress.Equals(start))
        {
            error = "";
            return true;
        }

        network = default;

        error = $"'{text}' is not an IP address or a CIDR network (e.g. 10.0.0.5, ::1 or 10.0.0.0/24)";
        return false;
    }

    /// <summary>IPAddress.TryParse also takes "10" or "10.1" (short IPv4 forms); a proxy is written out in full.</summary>
    private static bool IsPlainAddress(string text) => text.Contains(':', StringComparison.Ordinal) || text.Count(c => c == '.') == 3;
}
