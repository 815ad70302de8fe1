using System.Net;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.MqttSecurity;

/// <summary>
/// Validates the MQTT security rules of Monitor:Mqtt at start (docs/mqtt.md, "MQTT security"): who the embedded broker
/// lets in beyond loopback, users' names, roles and password hashes, and no password in clear to a remote broker.
/// </summary>
internal sealed class MqttSecurityOptionsValidator : IValidateOptions<MonitorOptions>
{
    public ValidateOptionsResult Validate(string? name, MonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new OptionFailures();
        Validate(options.Mqtt, failures);
        return failures.Result();
    }

    private static void Validate(MqttSettings mqtt, OptionFailures failures)
    {
        bool loopback = BrokerAccessPolicy.IsLoopback(mqtt.Host);
        if (mqtt.EmbeddedBroker)
        {
            failures.Check(loopback || IPAddress.TryParse(mqtt.Host, out _), "Mqtt:Host", "must be an IP address (or localhost) for the embedded broker to bind to", mqtt.Host);
            failures.Check(loopback || mqtt.Users.Length > 0, "Mqtt:Users",
                $"must list at least one user when the embedded broker listens beyond loopback (Mqtt:Host {mqtt.Host}): anonymous clients are let in on loopback only; create users with `mqtt-user create`", mqtt.Users.Length);
            failures.Check(mqtt.Username is null && mqtt.Password is null, "Mqtt:Username", "and Mqtt:Password are for an external broker: with the embedded broker the monitor authenticates with an in-process secret (set Mqtt:EmbeddedBroker to false)", mqtt.Username);
        }
        else
        {
            failures.Check(mqtt.Users.Length == 0, "Mqtt:Users", "configures the embedded broker only: with Mqtt:EmbeddedBroker false create the users on the plant's broker (docs/mqtt.md, \"MQTT security\")", mqtt.Users.Length);
            bool plain = (mqtt.Username is not null || mqtt.Password is not null) && !mqtt.UseTls && !loopback;
            failures.Check(!plain || mqtt.AllowPlainPassword, "Mqtt:AllowPlainPassword",
                $"must be true to send Mqtt:Username/Password without TLS to {mqtt.Host} (the password would cross the network in clear); set Mqtt:UseTls true instead", mqtt.AllowPlainPassword);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        string simulator = EmbeddedBrokerSecrets.SimulatorUsername(mqtt.ClientId);
        for (int i = 0; i < mqtt.Users.Length; i++)
        {
            var user = mqtt.Users[i] ?? new MqttUserSettings();
            string key = $"Mqtt:Users:{i}";
            failures.Check(!string.IsNullOrWhiteSpace(user.Username) && !user.Username.Contains('\0', StringComparison.Ordinal), $"{key}:Username", "must not be empty", user.Username);
            failures.Check(user.Username != mqtt.ClientId && user.Username != simulator, $"{key}:Username", $"must differ from Mqtt:ClientId ({mqtt.ClientId}) and {simulator}: those names are the monitor's own", user.Username);
            failures.Check(seen.Add(user.Username), $"{key}:Username", "must be unique among Mqtt:Users", user.Username);
            failures.Check(BrokerAccessPolicy.TryParseRole(user.Role, out _), $"{key}:Role", "must be gateway or viewer", user.Role);
            failures.Check(PasswordHash.IsWellFormed(user.PasswordHash), $"{key}:PasswordHash",
                $"must read pbkdf2-sha256$<iterations, at least {PasswordHash.MinimumIterations}>$<salt base64>$<hash base64>, as `mqtt-user create` prints it", user.PasswordHash.Length > 12 ? user.PasswordHash[..12] + "..." : user.PasswordHash);
        }
    }
}
