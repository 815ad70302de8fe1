namespace TSViz.Monitor.Security;

/// <summary>The security log lines: the start-up state, every refusal (never a silent drop), and the audit trail of writes.</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Warning, Message = "HTTP authentication is off: no API key and no JWT authority configured, so every request acts as 'anonymous' with every role; HTTP is bound to loopback only ({Url}). Configure Monitor:Security:ApiKeys or Monitor:Security:Jwt before binding to the network")]
    public static partial void AuthenticationOff(ILogger logger, string url);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "HTTP authentication on: {Keys} API key(s), JWT {Jwt}; HTTP on {Url}")]
    public static partial void AuthenticationOn(ILogger logger, int keys, string jwt, string url);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Refused {Method} {Path} ({Reason}, {Status}) for {Identity} from {Remote}: {Detail}")]
    public static partial void Refused(ILogger logger, string method, string path, string reason, int status, string identity, string? remote, string detail);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Information, Message = "Audit: {Action} {Target} by {Identity} (role {Role}, {AuthMethod})")]
    public static partial void Audit(ILogger logger, string action, string target, string identity, string role, string authMethod);
}
