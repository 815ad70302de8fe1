using System.Net;
using System.Security.Cryptography;
using MQTTnet.Formatter;

namespace TSViz.Monitor.Live;

/// <summary>
/// The client ids the embedded broker gives clients that connect with a zero-length one (MQTT 3.1.1 section 3.1.3.1,
/// MQTT 5 section 3.1.3.1): "auto-" and 32 random hex digits, as Mosquitto does, unique without any bookkeeping.
/// </summary>
internal static partial class ClientIdAssignment
{
    public static string New() => "auto-" + RandomNumberGenerator.GetHexString(32, lowercase: true);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Embedded broker assigned client id {ClientId} to a client from {Remote} that connected with an empty one over MQTT {Protocol}")]
    public static partial void LogAssigned(ILogger logger, string clientId, EndPoint? remote, MqttProtocolVersion protocol);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "Embedded broker refused a client from {Remote}: an empty client id without clean session over MQTT {Protocol} (identifier rejected)")]
    public static partial void LogRefused(ILogger logger, EndPoint? remote, MqttProtocolVersion protocol);
}
