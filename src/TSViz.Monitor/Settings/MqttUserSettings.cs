namespace TSViz.Monitor.Settings;

/// <summary>A user of the embedded broker (create one with the <c>mqtt-user create</c> verb).</summary>
public sealed class MqttUserSettings
{
    public string Username { get; set; } = "";

    /// <summary>"gateway" (publishes telemetry on Mqtt:TopicPattern) or "viewer" (subscribes under Mqtt:OutputPrefix).</summary>
    public string Role { get; set; } = "";

    /// <summary>pbkdf2-sha256$iterations$salt$hash (base64), as <c>mqtt-user create</c> prints it; never the password itself.</summary>
    public string PasswordHash { get; set; } = "";
}
