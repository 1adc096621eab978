namespace Console.Infrastructure.Restore;

/// <summary>
/// The one line of a tool's output an operator needs on the page. etcdctl prints JSON progress lines first and, on a
/// corrupt file, a Go panic with its whole goroutine dump; the page shows the panic's message, the log keeps the rest.
/// </summary>
public static class ToolOutput
{
    public static string Summary(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.FirstOrDefault(l => l.StartsWith("panic:", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(l => l.StartsWith("Error:", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(l => !l.StartsWith('{'))
            ?? lines.FirstOrDefault()
            ?? "no output";
    }
}
