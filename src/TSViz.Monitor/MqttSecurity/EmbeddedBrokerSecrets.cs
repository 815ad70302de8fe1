using System.Security.Cryptography;
using System.Text;

namespace TSViz.Monitor.MqttSecurity;

/// <summary>
/// The passwords the monitor's own clients (its gateway and the simulator) present to the embedded broker: random,
/// made at start, held in memory only, never configured, so no file or variable can leak them.
/// </summary>
internal sealed class EmbeddedBrokerSecrets
{
    public string MonitorPassword { get; } = PasswordHash.NewPassword();

    public string SimulatorPassword { get; } = PasswordHash.NewPassword();

    /// <summary>The simulator's user name (and client id) for a monitor whose client id is <paramref name="monitorClientId"/>.</summary>
    public static string SimulatorUsername(string monitorClientId) => $"{monitorClientId}-simulator";

    public static bool Matches(ReadOnlySpan<byte> presented, string secret)
        => CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(secret));
}
