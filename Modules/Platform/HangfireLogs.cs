using Hangfire.Logging;
using Microsoft.Extensions.Logging;
using HangfireLevel = Hangfire.Logging.LogLevel;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace BirbalAI.Platform;

/// <summary>
/// Hangfire's logs into the app's logging. Hangfire keeps its log provider in a static (LibLog), so in a process that hosts
/// several apps (the tests) it can point at an app that has stopped: its logger factory is disposed, and Hangfire's own
/// provider would then throw from inside job creation. This one answers with a silent logger instead.
/// </summary>
sealed class HangfireLogs(ILoggerFactory factory) : ILogProvider
{
    public ILog GetLogger(string name)
    {
        try
        {
            return new Forwarding(factory.CreateLogger(name));
        }
        catch (ObjectDisposedException)
        {
            return Silent;
        }
    }

    static readonly ILog Silent = new Forwarding(null);

    sealed class Forwarding(ILogger? logger) : ILog
    {
        public bool Log(HangfireLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            if (logger is null) return false;
            var level = logLevel switch
            {
                HangfireLevel.Trace => LogLevel.Trace,
                HangfireLevel.Debug => LogLevel.Debug,
                HangfireLevel.Info => LogLevel.Information,
                HangfireLevel.Warn => LogLevel.Warning,
                HangfireLevel.Error => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            try
            {
                if (messageFunc is null) return logger.IsEnabled(level);
                if (!logger.IsEnabled(level)) return false;
                logger.Log(level, 0, exception, "{Message}", messageFunc());
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
