using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Server;

namespace TSViz.Monitor.Live;

/// <summary>
/// Wraps one of MQTTnet's listeners (its TCP server adapter) so that every accepted connection goes through
/// <see cref="ClientIdAssigningChannelAdapter"/> before the server sees it: MQTTnet 5.2 assigns a client id for an empty one
/// over MQTT 5 only and refuses it over MQTT 3.1.1 and 3.1 (after the ValidatingConnectionAsync handlers have run), so the
/// id is given here, on the CONNECT packet itself, where every later step (access rules, sessions) sees it.
/// </summary>
internal sealed class ClientIdAssigningServerAdapter(IMqttServerAdapter inner, ILogger brokerLogger) : IMqttServerAdapter
{
    /// <summary>Set by the MqttServer at start (and cleared at stop) with its handler for a new connection.</summary>
    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        inner.ClientHandler = OnClientAsync;
        return inner.StartAsync(options, logger);
    }

    public Task StopAsync() => inner.StopAsync();

    public void Dispose() => inner.Dispose();

    private Task OnClientAsync(IMqttChannelAdapter channel)
        => ClientHandler is { } handler ? handler(new ClientIdAssigningChannelAdapter(channel, brokerLogger)) : Task.CompletedTask;
}
