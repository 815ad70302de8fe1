namespace TSViz.Monitor.Settings;

/// <summary>
/// Cluster mode (docs/cluster.md): N monitors for one plant on Microsoft Orleans, membership and history in one
/// PostgreSQL. Off (the default), the monitor runs alone as always; on, every node takes a share of the input through
/// an MQTT 5 shared subscription and hands each machine's samples to the one node that owns that machine.
/// </summary>
public sealed class ClusterSettings
{
    public bool Enabled { get; set; }

    /// <summary>The cluster's name: nodes with the same name and database form one cluster.</summary>
    public string ClusterId { get; set; } = "tsviz";

    /// <summary>This node's name, unique in the cluster (its MQTT client id is Mqtt:ClientId + "-" + NodeName).</summary>
    public string NodeName { get; set; } = "node1";

    /// <summary>The address the other nodes reach this one on.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Port of the node-to-node (silo) protocol.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port Orleans clients would use (none do; it must still be free).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The MQTT 5 shared subscription group the nodes read the input through ($share/{group}/{filter}).</summary>
    public string SharedGroup { get; set; } = "tsviz";

    /// <summary>
    /// How long a machine's owner holds samples back to put them in timestamp order: messages of one machine reach
    /// different nodes and may overtake each other on the way to its owner. It must also be longer than the cluster
    /// takes to declare a dead node dead (about 1 s, measured): from then on the owners release nothing until the dead
    /// node's input is staged, but what they released before must not be newer than what the dead node received in its
    /// last moments. Shorter, explanations come sooner and the windows around a failure may be lost (dropped as out of
    /// order, counted in tsviz_samples_dropped_total).
    /// </summary>
    public int ReorderMilliseconds { get; set; } = 2000;

    /// <summary>The MQTT client id of this node: Mqtt:ClientId alone, or with "-" + NodeName in cluster mode.</summary>
    public string ClientId(MqttSettings mqtt)
    {
        ArgumentNullException.ThrowIfNull(mqtt);
        return Enabled ? $"{mqtt.ClientId}-{NodeName}" : mqtt.ClientId;
    }

    /// <summary>An input filter as this node subscribes it: shared by the cluster's nodes in cluster mode.</summary>
    public string InputFilter(string filter) => Enabled ? $"$share/{SharedGroup}/{filter}" : filter;

    /// <summary>Section Monitor:Cluster's rules, and what cluster mode needs of the other sections.</summary>
    internal void Validate(OptionFailures failures, MonitorOptions options)
    {
        if (!Enabled)
        {
            return;
        }

        failures.Check(options.History.Enabled && options.History.IsPostgres, "Cluster:Enabled",
            "needs History:Enabled true and History:Provider postgres (the nodes share membership, machine state and history in one PostgreSQL)", Enabled);
        failures.Check(!options.Mqtt.EmbeddedBroker, "Cluster:Enabled",
            "needs Mqtt:EmbeddedBroker false: the nodes share the input through an MQTT 5 shared subscription on the plant's broker (Mosquitto 2, EMQX, HiveMQ); the embedded broker has none", Enabled);
        failures.Check(!options.Sparkplug.Input.Enabled && !options.Sparkplug.Output.Enabled, "Cluster:Enabled",
            "does not take Sparkplug B input or output yet (an edge node's session is one node's); set Monitor:Sparkplug:Input:Enabled and Output:Enabled false", Enabled);
        failures.Check(IsName(ClusterId), "Cluster:ClusterId", "must be 1-64 letters, digits, '-' or '_'", ClusterId);
        failures.Check(IsName(NodeName), "Cluster:NodeName", "must be 1-64 letters, digits, '-' or '_', unique in the cluster", NodeName);
        failures.Check(System.Net.IPAddress.TryParse(AdvertisedAddress, out _), "Cluster:AdvertisedAddress", "must be an IP address the other nodes reach", AdvertisedAddress);
        failures.Check(SiloPort is > 0 and < 65536, "Cluster:SiloPort", "must lie in 1..65535", SiloPort);
        failures.Check(GatewayPort is > 0 and < 65536 && GatewayPort != SiloPort, "Cluster:GatewayPort", $"must lie in 1..65535 and differ from Cluster:SiloPort ({SiloPort})", GatewayPort);
        failures.Check(IsName(SharedGroup), "Cluster:SharedGroup", "must be 1-64 letters, digits, '-' or '_' (no '/', '+' or '#')", SharedGroup);
        failures.Check(ReorderMilliseconds is >= 0 and <= 10_000, "Cluster:ReorderMilliseconds", "must lie in 0..10000", ReorderMilliseconds);
    }

    private static bool IsName(string? name)
        => !string.IsNullOrEmpty(name) && name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
