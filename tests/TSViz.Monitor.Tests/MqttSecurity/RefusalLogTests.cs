using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TSViz.Monitor.MqttSecurity;

namespace TSViz.Monitor.Tests.MqttSecurity;

/// <summary>A flood of refusals cannot flood the log: the lines per period are bounded and the rest counted.</summary>
public sealed class RefusalLogTests
{
    [Fact]
    public void Refused_AFlood_LogsAtMostTheBoundThenSaysHowManyWereNotLogged()
    {
        var time = new FakeTimeProvider();
        var logger = new ListLogger();
        var log = new RefusalLog(logger, time);
        for (int i = 0; i < 1000; i++)
        {
            log.Refused("publish", "not allowed for role gateway", "gw-1", "gw", "on tsviz/v1/m1/alert");
        }

        Assert.Equal(RefusalLog.LinesPerPeriod, logger.Lines.Count);
        time.Advance(TimeSpan.FromSeconds(10));
        log.Refused("connect", "bad_credentials", "x", "x", "from 127.0.0.1");
        Assert.Equal(RefusalLog.LinesPerPeriod + 2, logger.Lines.Count);
        Assert.Contains("980", logger.Lines[^2], StringComparison.Ordinal);
        Assert.Contains("bad_credentials", logger.Lines[^1], StringComparison.Ordinal);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Lines.Add(formatter(state, exception));
    }
}
