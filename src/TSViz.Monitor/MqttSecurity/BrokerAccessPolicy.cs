using System.Net;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Sparkplug;

namespace TSViz.Monitor.MqttSecurity;

/// <summary>The outcome of a CONNECT: the client's role, or why it is refused.</summary>
internal readonly record struct ConnectDecision(BrokerRole? Role, string? Refusal)
{
    public static ConnectDecision Allow(BrokerRole role) => new(role, null);

    public static ConnectDecision Refuse(string reason) => new(null, reason);
}

/// <summary>
/// Who may connect to the embedded broker and what each role may publish and subscribe (docs/mqtt.md, "MQTT security").
/// Pure rules over the settings; <see cref="EmbeddedBroker"/> applies them to MQTTnet's events.
/// </summary>
internal sealed class BrokerAccessPolicy
{
    // Verifying against this when the user is unknown costs the same time as a wrong password of a known user.
    private static readonly string DummyHash = PasswordHash.Create("tsviz-unknown-user", PasswordHash.MinimumIterations);

    private readonly MqttSettings mqtt;
    private readonly EmbeddedBrokerSecrets secrets;
    private readonly Dictionary<string, MqttUserSettings> users;
    private readonly string simulatorUsername;
    private readonly string telemetryFilter;
    private readonly string outputFilter;
    private readonly string? mirrorFilter;
    private readonly string[] sparkplugInput; // the Sparkplug groups read (Sparkplug:Input:GroupIds), none when that input is off
    private readonly string[] sparkplugFilters;
    private readonly string? sparkplugCommand;

    /// <param name="mqtt">The MQTT settings.</param>
    /// <param name="secrets">The in-process passwords of the monitor and the simulator.</param>
    /// <param name="sparkplug">
    /// The Sparkplug B settings. Input: the monitor subscribes to the groups it reads and publishes NCMD there, gateways
    /// publish edge node messages there. Output, when enabled: the monitor publishes as its edge node (spBv1.0/{GroupId}/+/{EdgeNodeId}[/+],
    /// commands excepted) and subscribes its NCMD topic, and viewers may subscribe under spBv1.0/#.
    /// </param>
    /// <param name="mirrorFilter">The topic filter of the Unified Namespace mirror (Mqtt:UnsMirror, parsed by the live path); null: no mirror.</param>
    public BrokerAccessPolicy(MqttSettings mqtt, EmbeddedBrokerSecrets secrets, SparkplugSettings? sparkplug = null, string? mirrorFilter = null)
    {
        ArgumentNullException.ThrowIfNull(mqtt);
        this.mqtt = mqtt;
        this.secrets = secrets;
        users = mqtt.Users.ToDictionary(u => u.Username, StringComparer.Ordinal);
        simulatorUsername = EmbeddedBrokerSecrets.SimulatorUsername(mqtt.ClientId);
        telemetryFilter = TopicFilters.FromPattern(mqtt.TopicPattern);
        outputFilter = $"{mqtt.OutputPrefix}/#";
        this.mirrorFilter = mirrorFilter;
        sparkplugInput = sparkplug?.Input is { Enabled: true } input ? [.. input.GroupIds] : [];
        AnonymousAllowed = users.Count == 0 && IsLoopback(mqtt.Host);
        if (sparkplug?.Output is { Enabled: true } output)
        {
            string node = $"{TSViz.Plugins.Sparkplug.SparkplugTopic.Namespace}/{output.GroupId}/+/{output.EdgeNode(mqtt)}";
            sparkplugFilters = [node, $"{node}/+"];
            sparkplugCommand = $"{TSViz.Plugins.Sparkplug.SparkplugTopic.Namespace}/{output.GroupId}/NCMD/{output.EdgeNode(mqtt)}";
        }
        else
        {
            sparkplugFilters = [];
        }
    }

    /// <summary>The demo rule: anonymous clients only on a loopback broker with no users configured.</summary>
    public bool AnonymousAllowed { get; }

    /// <summary>Whether <paramref name="host"/> names this machine only (localhost or a loopback address).</summary>
    public static bool IsLoopback(string host)
        => string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    /// <summary>Authenticates a CONNECT. The monitor's client id is reserved for the monitor (no session takeover).</summary>
    public ConnectDecision Authenticate(string? clientId, string? username, ReadOnlySpan<byte> password)
    {
        bool monitorId = string.Equals(clientId, mqtt.ClientId, StringComparison.Ordinal);
        bool monitorUser = string.Equals(username, mqtt.ClientId, StringComparison.Ordinal);
        if (monitorId || monitorUser)
        {
            return monitorId && monitorUser && EmbeddedBrokerSecrets.Matches(password, secrets.MonitorPassword)
                ? ConnectDecision.Allow(BrokerRole.Monitor)
                : ConnectDecision.Refuse("reserved_client_id");
        }

        if (string.IsNullOrEmpty(username))
        {
            return AnonymousAllowed ? ConnectDecision.Allow(BrokerRole.Anonymous) : ConnectDecision.Refuse("anonymous");
        }

        if (string.Equals(username, simulatorUsername, StringComparison.Ordinal))
        {
            return EmbeddedBrokerSecrets.Matches(password, secrets.SimulatorPassword) ? ConnectDecision.Allow(BrokerRole.Gateway) : ConnectDecision.Refuse("bad_credentials");
        }

        if (users.TryGetValue(username, out var user))
        {
            return PasswordHash.Verify(password, user.PasswordHash) && TryParseRole(user.Role, out var role)
                ? ConnectDecision.Allow(role)
                : ConnectDecision.Refuse("bad_credentials");
        }

        PasswordHash.Verify(password, DummyHash);
        return ConnectDecision.Refuse("bad_credentials");
    }

    /// <summary>
    /// The role of an authenticated user name (null: anonymous). A user name maps to one role only, so a publish is
    /// judged by the name its own connection authenticated with.
    /// </summary>
    public BrokerRole? RoleOf(string? username)
    {
        if (string.IsNullOrEmpty(username))
        {
            return AnonymousAllowed ? BrokerRole.Anonymous : null;
        }

        if (string.Equals(username, mqtt.ClientId, StringComparison.Ordinal))
        {
            return BrokerRole.Monitor;
        }

        if (string.Equals(username, simulatorUsername, StringComparison.Ordinal))
        {
            return BrokerRole.Gateway;
        }

        return users.TryGetValue(username, out var user) && TryParseRole(user.Role, out var role) ? role : null;
    }

    public bool MayPublish(BrokerRole role, string topic) => role switch
    {
        BrokerRole.Monitor => IsOutput(topic) || IsSparkplugOutput(topic) || IsSparkplugInput(topic, SparkplugMessageType.NCmd),
        BrokerRole.Gateway => TopicFilters.IsWithin(topic, telemetryFilter) || IsSparkplugInput(topic, null),
        BrokerRole.Anonymous => !IsOutput(topic) && !IsSparkplugOutput(topic),
        _ => false,
    };

    public bool MaySubscribe(BrokerRole role, string filter)
    {
        string shared = TopicFilters.WithoutShare(filter);
        return role switch
        {
            BrokerRole.Monitor => TopicFilters.IsWithin(shared, telemetryFilter) || sparkplugInput.Any(g => TopicFilters.IsWithin(shared, $"{SparkplugTopic.Namespace}/{g}/#"))
                || string.Equals(shared, sparkplugCommand, StringComparison.Ordinal),
            BrokerRole.Viewer => IsOutput(shared) || (sparkplugCommand is not null && TopicFilters.IsWithin(shared, $"{SparkplugTopic.Namespace}/#")),
            BrokerRole.Anonymous => true,
            _ => false,
        };
    }

    /// <summary>
    /// Whether <paramref name="topic"/> is a Sparkplug B message of a group the monitor reads: of type
    /// <paramref name="command"/> (the monitor's rebirth requests), or, when null, an edge node's own births, data and
    /// deaths (what a gateway publishes; never commands or another host's STATE).
    /// </summary>
    private bool IsSparkplugInput(string topic, SparkplugMessageType? command)
    {
        if (sparkplugInput.Length == 0 || !SparkplugTopic.TryParse(topic, out var parsed, out _)
            || !sparkplugInput.Any(g => g == "+" || string.Equals(g, parsed.GroupId, StringComparison.Ordinal)))
        {
            return false;
        }

        return command is { } type
            ? parsed.MessageType == type
            : parsed.MessageType is SparkplugMessageType.NBirth or SparkplugMessageType.NData or SparkplugMessageType.NDeath
                or SparkplugMessageType.DBirth or SparkplugMessageType.DData or SparkplugMessageType.DDeath;
    }

    /// <summary>Whether a topic or filter lies under the monitor's output: its prefix, or the UNS mirror when on.</summary>
    private bool IsOutput(string topic) => TopicFilters.IsWithin(topic, outputFilter) || (mirrorFilter is not null && TopicFilters.IsWithin(topic, mirrorFilter));

    /// <summary>Whether a topic or filter lies under the monitor's Sparkplug edge node (births, data, deaths; not its commands).</summary>
    private bool IsSparkplugOutput(string topic)
        => sparkplugFilters.Any(f => TopicFilters.IsWithin(topic, f))
            && !(topic.Split('/') is [_, _, "NCMD" or "DCMD" or "+" or "#", ..]);

    /// <summary>The roles a configured user may have.</summary>
    public static bool TryParseRole(string? text, out BrokerRole role)
    {
        role = text switch
        {
            "gateway" => BrokerRole.Gateway,
            "viewer" => BrokerRole.Viewer,
            _ => BrokerRole.Anonymous,
        };
        return role != BrokerRole.Anonymous;
    }
}
