namespace TSViz.Plugins.Sparkplug;

/// <summary>The message type element of a Sparkplug topic (Sparkplug 3.0.0, section 4.1.1.3).</summary>
public enum SparkplugMessageType
{
    /// <summary>An edge node's birth certificate: every metric it will report, with names, aliases and datatypes.</summary>
    NBirth,

    /// <summary>An edge node's death certificate (usually its MQTT will), carrying the bdSeq of the session it ends.</summary>
    NDeath,

    /// <summary>An edge node's changed metrics.</summary>
    NData,

    /// <summary>A command to an edge node (for instance a rebirth request).</summary>
    NCmd,

    /// <summary>A device's birth certificate.</summary>
    DBirth,

    /// <summary>A device's death certificate, published by its edge node.</summary>
    DDeath,

    /// <summary>A device's changed metrics.</summary>
    DData,

    /// <summary>A command to a device.</summary>
    DCmd,

    /// <summary>A host application's state (<c>spBv1.0/STATE/{host}</c>).</summary>
    State,
}
