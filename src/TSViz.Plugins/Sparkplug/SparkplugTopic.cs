using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// A Sparkplug B topic (Sparkplug 3.0.0, chapter 4): <c>spBv1.0/{group}/{type}/{edge node}</c> for node messages,
/// <c>spBv1.0/{group}/{type}/{edge node}/{device}</c> for device messages, <c>spBv1.0/STATE/{host}</c> for a host
/// application's state. Each id is non-empty UTF-8 without '+', '/' or '#'. <see cref="ToString"/> formats it.
/// </summary>
public sealed record SparkplugTopic
{
    /// <summary>The namespace element of every Sparkplug B topic.</summary>
    public const string Namespace = "spBv1.0";

    private SparkplugTopic(SparkplugMessageType messageType, string? groupId, string? edgeNodeId, string? deviceId, string? hostId)
    {
        MessageType = messageType;
        GroupId = groupId;
        EdgeNodeId = edgeNodeId;
        DeviceId = deviceId;
        HostId = hostId;
    }

    /// <summary>
    /// The message type; it decides which ids the topic has (device types a device id, STATE a host id only).
    /// </summary>
    public SparkplugMessageType MessageType { get; }

    /// <summary>The group id; null for STATE.</summary>
    public string? GroupId { get; }

    /// <summary>The edge node id; null for STATE.</summary>
    public string? EdgeNodeId { get; }

    /// <summary>The device id of DBIRTH, DDEATH, DDATA and DCMD; null otherwise.</summary>
    public string? DeviceId { get; }

    /// <summary>The host application id of STATE; null otherwise.</summary>
    public string? HostId { get; }

    /// <summary>True for the four device message types.</summary>
    public bool IsDeviceMessage => IsDeviceType(MessageType);

    /// <summary>A node message's topic (NBIRTH, NDEATH, NDATA, NCMD).</summary>
    public static SparkplugTopic ForNode(SparkplugMessageType messageType, string groupId, string edgeNodeId)
    {
        if (IsDeviceType(messageType) || messageType == SparkplugMessageType.State)
        {
            throw new ArgumentException($"{messageType} is not a node message type (NBIRTH, NDEATH, NDATA, NCMD).", nameof(messageType));
        }

        return new(messageType, RequireId(groupId, nameof(groupId)), RequireId(edgeNodeId, nameof(edgeNodeId)), null, null);
    }

    /// <summary>A device message's topic (DBIRTH, DDEATH, DDATA, DCMD).</summary>
    public static SparkplugTopic ForDevice(SparkplugMessageType messageType, string groupId, string edgeNodeId, string deviceId)
    {
        if (!IsDeviceType(messageType))
        {
            throw new ArgumentException($"{messageType} is not a device message type (DBIRTH, DDEATH, DDATA, DCMD).", nameof(messageType));
        }

        return new(messageType, RequireId(groupId, nameof(groupId)), RequireId(edgeNodeId, nameof(edgeNodeId)), RequireId(deviceId, nameof(deviceId)), null);
    }

    /// <summary>A host application's STATE topic.</summary>
    public static SparkplugTopic ForState(string hostId) => new(SparkplugMessageType.State, null, null, null, RequireId(hostId, nameof(hostId)));

    /// <summary>Whether <paramref name="id"/> may stand as a group, edge node, device or host id.</summary>
    public static bool IsValidId([NotNullWhen(true)] string? id) => !string.IsNullOrEmpty(id) && !id.AsSpan().ContainsAny('+', '/', '#') && IsWellFormed(id);

    /// <summary>
    /// <paramref name="text"/> made a valid id by percent-escaping the characters ids cannot hold ('/' as %2F, '+' as
    /// %2B, '#' as %23) and '%' itself (%25), so distinct texts stay distinct ids: the machine "line1/press7" is the
    /// device "line1%2Fpress7".
    /// </summary>
    public static string EscapeId(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        if (!text.AsSpan().ContainsAny("%/+#"))
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            escaped.Append(c switch
            {
                '%' => "%25",
                '/' => "%2F",
                '+' => "%2B",
                '#' => "%23",
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }

    /// <summary>Parses a topic; false with the reason when it is not a Sparkplug B topic.</summary>
    public static bool TryParse(string? topic, [NotNullWhen(true)] out SparkplugTopic? parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = null;
        if (topic is null)
        {
            error = "there is no topic";
            return false;
        }

        var parts = topic.Split('/');
        if (parts[0] != Namespace)
        {
            error = $"it does not start with the namespace {Namespace}/";
            return false;
        }

        if (parts.Length == 3 && parts[1] == "STATE")
        {
            return TryId(parts[2], "host id", out error) && Ok(new(SparkplugMessageType.State, null, null, null, parts[2]), out parsed);
        }

        if (parts.Length is < 4 or > 5)
        {
            error = $"it has {parts.Length} levels; Sparkplug topics have 4 ({Namespace}/group/type/edge), 5 with a device, or 3 for STATE";
            return false;
        }

        if (!TryParseType(parts[2], out var type))
        {
            error = $"'{SparkplugText.Quote(parts[2])}' is not a Sparkplug message type (NBIRTH, NDEATH, NDATA, NCMD, DBIRTH, DDEATH, DDATA, DCMD)";
            return false;
        }

        if (IsDeviceType(type) != (parts.Length == 5))
        {
            error = IsDeviceType(type) ? $"{parts[2]} needs a device id after the edge node id" : $"{parts[2]} takes no device id";
            return false;
        }

        if (!TryId(parts[1], "group id", out error) || !TryId(parts[3], "edge node id", out error) || (parts.Length == 5 && !TryId(parts[4], "device id", out error)))
        {
            return false;
        }

        return Ok(new(type, parts[1], parts[3], parts.Length == 5 ? parts[4] : null, null), out parsed);
    }

    /// <summary>The topic string.</summary>
    public override string ToString() => MessageType == SparkplugMessageType.State
        ? $"{Namespace}/STATE/{HostId}"
        : DeviceId is null
            ? $"{Namespace}/{GroupId}/{TypeName(MessageType)}/{EdgeNodeId}"
            : $"{Namespace}/{GroupId}/{TypeName(MessageType)}/{EdgeNodeId}/{DeviceId}";

    /// <summary>The message type as the topic writes it (NBIRTH, ..., STATE).</summary>
    public static string TypeName(SparkplugMessageType messageType) => messageType switch
    {
        SparkplugMessageType.NBirth => "NBIRTH",
        SparkplugMessageType.NDeath => "NDEATH",
        SparkplugMessageType.NData => "NDATA",
        SparkplugMessageType.NCmd => "NCMD",
        SparkplugMessageType.DBirth => "DBIRTH",
        SparkplugMessageType.DDeath => "DDEATH",
        SparkplugMessageType.DData => "DDATA",
        SparkplugMessageType.DCmd => "DCMD",
        SparkplugMessageType.State => "STATE",
        _ => throw new ArgumentOutOfRangeException(nameof(messageType), messageType, null),
    };

    private static bool TryParseType(string text, out SparkplugMessageType type)
    {
        foreach (var candidate in Enum.GetValues<SparkplugMessageType>())
        {
            if (candidate != SparkplugMessageType.State && TypeName(candidate) == text)
            {
                type = candidate;
                return true;
            }
        }

        type = default;
        return false;
    }

    private static bool IsDeviceType(SparkplugMessageType type) => type is SparkplugMessageType.DBirth or SparkplugMessageType.DDeath or SparkplugMessageType.DData or SparkplugMessageType.DCmd;

    private static bool TryId(string id, string what, [NotNullWhen(false)] out string? error)
    {
        error = IsValidId(id) ? null : id.Length == 0 ? $"the {what} is empty" : $"the {what} '{SparkplugText.Quote(id)}' holds '+' or '#' or is not well-formed Unicode";
        return error is null;
    }

    private static bool Ok(SparkplugTopic topic, out SparkplugTopic parsed)
    {
        parsed = topic;
        return true;
    }

    private static string RequireId(string id, string parameter) => IsValidId(id)
        ? id
        : throw new ArgumentException($"'{id}' is not a Sparkplug id: it must be non-empty, without '+', '/' or '#'.", parameter);

    private static bool IsWellFormed(string text)
    {
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out _, out int used) != System.Buffers.OperationStatus.Done)
            {
                return false;
            }

            rest = rest[used..];
        }

        return true;
    }
}
