using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Console.Web.Tests.Fixtures;

/// <summary>Keeps every log line of a test host, at every level, with its exception, to search afterwards.</summary>
public sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public string Text => string.Join('\n', _lines);

    /// <summary>The one-time password the console printed at start (first run or admin reset).</summary>
    public string OneTimePassword() =>
        System.Text.RegularExpressions.Regex.Match(Text, "one-time password  (\\S+)") is { Success: true } m
            ? m.Groups[1].Value
            : throw new InvalidOperationException("no one-time password in the log");

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The structured values too, not only the rendered message: a secret passed as an argument counts.
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{values}] {exception}");
        }
    }
}
