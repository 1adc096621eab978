using System.Globalization;
using Console.Infrastructure.Persistence;

namespace Console.Web;

/// <summary>
/// <c>dotnet Console.Web.dll copy-state --from DATADIR/console.db [--to-env VARIABLE]</c>: an SQLite console's state
/// into an empty PostgreSQL database (decision record 0025). The connection string is read from an environment variable
/// (Console__Database__ConnectionString unless told otherwise), never from the command line, where `ps` and shell
/// history would show its password; and it is never printed. Exit 0 with the rows per table; 2 when it refuses.
/// </summary>
internal static class CopyStateCommand
{
    public const string Name = "copy-state";
    private const string DefaultVariable = "Console__Database__ConnectionString";
    private const string Usage = $"usage: Console.Web {Name} --from PATH/console.db [--to-env VARIABLE]   (VARIABLE holds the PostgreSQL connection string; default {DefaultVariable})";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        string? from = null;
        var variable = DefaultVariable;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--from" when i + 1 < args.Count:
                    from = args[++i];
                    break;
                case "--to-env" when i + 1 < args.Count:
                    variable = args[++i];
                    break;
                default:
                    // Not echoed: a connection string pasted here by mistake must not be printed back.
                    await error.WriteLineAsync($"copy-state: unexpected argument #{i + 1}. {Usage}").ConfigureAwait(false);
                    return StartupFailure.InvalidConfiguration;
            }
        }

        if (from is null)
        {
            await error.WriteLineAsync($"copy-state: --from is required. {Usage}").ConfigureAwait(false);
            return StartupFailure.InvalidConfiguration;
        }

        if (Environment.GetEnvironmentVariable(variable) is not { Length: > 0 } connectionString)
        {
            await error.WriteLineAsync($"copy-state: the environment variable {variable} is not set; put the target's PostgreSQL connection string in it. {Usage}").ConfigureAwait(false);
            return StartupFailure.InvalidConfiguration;
        }

        try
        {
            await output.WriteLineAsync($"copying {Path.GetFullPath(from)} into {PostgresTarget.Parse(connectionString)}").ConfigureAwait(false);
            var counts = await CopyState.RunAsync(from, connectionString, cancellationToken).ConfigureAwait(false);
            var width = counts.Select(c => c.Table.Length).DefaultIfEmpty(5).Max();
            foreach (var (table, rows) in counts)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {table.PadRight(width)}  {rows,10:N0}")).ConfigureAwait(false);
            }

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"copied {counts.Sum(c => c.Rows):N0} rows in {counts.Count} tables in one transaction (not copied: {string.Join(", ", CopyState.Skipped.Order(StringComparer.Ordinal))}, made again by the consoles)")).ConfigureAwait(false);
            return 0;
        }
        catch (Exception ex) when (ex is CopyStateRefusedException or DatabaseUnavailableException)
        {
            await error.WriteLineAsync($"copy-state refused: {ex.Message}").ConfigureAwait(false);
            return StartupFailure.InvalidConfiguration;
        }
    }
}
