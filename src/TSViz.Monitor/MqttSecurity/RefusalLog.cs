namespace TSViz.Monitor.MqttSecurity;

/// <summary>
/// Logs the embedded broker's refusals without letting a flood of them flood the log: at most
/// <see cref="LinesPerPeriod"/> lines per 10 s, then one line saying how many more were refused (every refusal is
/// counted in tsviz_broker_refused_total regardless).
/// </summary>
internal sealed partial class RefusalLog(ILogger logger, TimeProvider time)
{
    public const int LinesPerPeriod = 20;
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);
    private readonly Lock gate = new();
    private long periodStart = long.MinValue;
    private int logged;
    private int suppressed;

    public void Refused(string action, string reason, string client, string? username, string what)
    {
        int missed = 0;
        bool log;
        lock (gate)
        {
            long now = time.GetTimestamp();
            if (periodStart == long.MinValue || time.GetElapsedTime(periodStart, now) >= Period)
            {
                missed = suppressed;
                periodStart = now;
                logged = 0;
                suppressed = 0;
            }

            log = logged < LinesPerPeriod;
            if (log)
            {
                logged++;
            }
            else
            {
                suppressed++;
            }
        }

        if (missed > 0)
        {
            LogSuppressed(logger, missed);
        }

        if (log)
        {
            LogRefused(logger, action, client, username ?? "(anonymous)", what, reason);
        }
    }

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, Message = "Embedded broker refused {Action} of client {Client} (user {User}) {What}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string action, string client, string user, string what, string reason);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "Embedded broker refused {Count} more requests in the last period without logging each (see tsviz_broker_refused_total)")]
    private static partial void LogSuppressed(ILogger logger, int count);
}
