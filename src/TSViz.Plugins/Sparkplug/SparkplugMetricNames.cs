namespace TSViz.Plugins.Sparkplug;

/// <summary>Metric names the Sparkplug specification gives a meaning to.</summary>
public static class SparkplugMetricNames
{
    /// <summary>The birth/death sequence number in NBIRTH and NDEATH (datatype Int64).</summary>
    public const string BdSeq = "bdSeq";

    /// <summary>
    /// Boolean: false in every NBIRTH (without an alias); an NCMD setting it true asks the edge node for a new NBIRTH and
    /// all its DBIRTHs.
    /// </summary>
    public const string NodeControlRebirth = "Node Control/Rebirth";
}
