namespace Console.Domain.Clusters;

/// <summary>A client or peer URL of an etcd member: http or https, a host and an explicit port, no path.</summary>
public static class EtcdUrl
{
    public static bool TryParse(string? text, out Uri url, out string error)
    {
        url = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the URL is empty";
            return false;
        }

        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var parsed) || string.IsNullOrEmpty(parsed.Host))
        {
            error = $"'{text}' is not an absolute URL such as https://10.0.0.1:2379";
            return false;
        }

        if (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps)
        {
            error = $"'{text}' must use http or https, not {parsed.Scheme}";
            return false;
        }

        if (parsed.AbsolutePath != "/" || !string.IsNullOrEmpty(parsed.Query))
        {
            error = $"'{text}' must not have a path or query";
            return false;
        }

        if (!text.Contains($":{parsed.Port}", StringComparison.Ordinal))
        {
            error = $"'{text}' must name its port explicitly (etcd uses 2379 for clients, 2380 for peers)";
            return false;
        }

        url = new Uri($"{parsed.Scheme}://{parsed.Authority}");
        error = string.Empty;
        return true;
    }
}
