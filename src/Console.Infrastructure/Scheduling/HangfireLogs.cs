using Hangfire.Logging;
using Microsoft.Extensions.Logging;
using HangfireLevel = Hangfire.Logging.LogLevel;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Console.Infrastructure.Scheduling;

/// <summary>
/// Hangfire's log output into our logging. Hangfire keeps its log provider in a process-wide static, which outlives
/// the host that set it (tests run several hosts in one process, one after another): a log call that meets a disposed
/// logger factory is dropped instead of failing the storage or job that logged it.
/// </summary>
internal sealed class HangfireLogs(ILoggerFactory loggers) : ILogProvider
{
    public ILog GetLogger(string name) => new ForwardingLog(loggers, name);

    private sealed class ForwardingLog(ILoggerFactory loggers, string name) : ILog
    {
        private ILogger? _logger;

        public bool Log(HangfireLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            try
            {
                _logger ??= loggers.CreateLogger(name);
                var level = logLevel switch
                {
                    HangfireLevel.Trace => LogLevel.Trace,
                    HangfireLevel.Debug => LogLevel.Debug,
                    HangfireLevel.Info => LogLevel.Information,
                    HangfireLevel.Warn => LogLevel.Warning,
                    HangfireLevel.Error => LogLevel.Error,
                    _ => LogLevel.Critical,
                };
                if (messageFunc is null || !_logger.IsEnabled(level))
                {
                    return _logger.IsEnabled(level);
                }

                // Hangfire's messages are formatted text already: logged as they are, never as a template.
                _logger.Log(level, default, messageFunc(), exception, static (message, _) => message);
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
