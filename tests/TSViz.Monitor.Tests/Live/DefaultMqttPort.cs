namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// Tests that run a broker on 127.0.0.1:1883, the default port the commands of the README and docs/ use: they run one at a
/// time and never beside another test (every other test takes an OS-chosen port).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DefaultMqttPort
{
    public const string Name = "MQTT default port 1883";
}
