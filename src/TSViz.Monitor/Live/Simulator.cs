using System.Buffers;
using System.Globalization;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using Microsoft.Extensions.Options;
using TSViz.Explain.Data;
using TSViz.Monitor.MqttSecurity;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>An anomaly the simulator injected: the ground truth a test or an operator can score the monitor against.</summary>
internal sealed record InjectedAnomaly(string Machine, string Channel, DateTimeOffset Timestamp, double Value);

/// <summary>
/// Simulated machines publishing pressure, temperature and torque as JSON samples at a fixed rate: random walks
/// around plausible operating points, with point anomalies (a single sample pushed 4-6 standard deviations of the
/// recent window away) injected at random into temperature or torque, never pressure, as in the training data.
/// </summary>
/// <remarks>
/// It publishes into the embedded broker (as a gateway, with an in-process secret); into an external broker only when
/// Simulator:PublishToExternalBroker says so, since there it would mix fake telemetry into a plant's.
/// </remarks>
internal sealed partial class Simulator(IOptions<MonitorOptions> options, TimeProvider time, ILogger<Simulator> logger, EmbeddedBrokerSecrets? secrets = null) : BackgroundService
{
    private static readonly string[] Channels = SimulatedMachine.Channels;
    private readonly List<InjectedAnomaly> injected = [];
    private int rebirthRequested;

    /// <summary>Anomalies injected so far (thread-safe copy).</summary>
    public IReadOnlyList<InjectedAnomaly> Injected
    {
        get
        {
            lock (injected)
            {
                return [.. injected];
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var sim = settings.Simulator;
        var mqtt = settings.Mqtt;
        string identity = EmbeddedBrokerSecrets.SimulatorUsername(mqtt.ClientId);
        if (!mqtt.EmbeddedBroker && !sim.PublishToExternalBroker)
        {
            LogOffExternal(logger, mqtt.Host, mqtt.Port);
            return;
        }

        if (!mqtt.EmbeddedBroker)
        {
            LogExternal(logger, mqtt.Host, mqtt.Port, mqtt.Topics().SubscriptionFilter);
        }

        using var client = new MqttClientFactory().CreateMqttClient();
        var edge = sim.Sparkplug ? new SimulatorEdgeNode(sim.SparkplugGroup) : null;
        var clientBuilder = mqtt.ClientOptions(secrets is null ? null : (identity, secrets.SimulatorPassword))
            .WithClientId(identity).WithCleanStart(true);
        if (edge is not null)
        {
            var will = edge.Death(time.GetUtcNow());
            clientBuilder.WithWillTopic(will.TopicName).WithWillPayload(will.Payload.ToArray()).WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
            client.ApplicationMessageReceivedAsync += e =>
            {
                if (edge.IsRebirth(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray()))
                {
                    Interlocked.Exchange(ref rebirthRequested, 1); // answered on the publishing loop, in seq order
                }

                return Task.CompletedTask;
            };
        }

        var clientOptions = clientBuilder.Build().WithSocketBuffers();
        while (!client.IsConnected && !stoppingToken.IsCancellationRequested)
        {
            try
            {
                await client.ConnectAsync(clientOptions, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken).ConfigureAwait(false);
            }
        }

        var random = new GaussianRandom(sim.Seed);
        var machines = Enumerable.Range(1, sim.Machines).Select(m => new SimulatedMachine($"m{m}", random)).ToArray();
        double anomalyProbability = sim.AnomalyEverySeconds > 0 ? 1.0 / (sim.AnomalyEverySeconds * sim.RateHz) : 0;
        // {machine} is the simulated machine's name, every other wildcard level the line; the monitor's id for it (what
        // the ground truth names) is what the pattern makes of that topic, e.g. line1/m1.
        var pattern = mqtt.Topics();
        var topics = machines.ToDictionary(m => m.Id, m => pattern.Topic(new Dictionary<string, string> { ["machine"] = m.Id, ["line"] = sim.Line }, sim.Line));
        var ids = topics.ToDictionary(p => p.Key, p => pattern.MachineOf(p.Value) ?? p.Key);
        string firstTopics = string.Join(", ", topics.Values.Take(2));
        LogStarted(logger, sim.Machines, sim.RateHz, firstTopics);

        var commands = sim.Inject.Select(i => SimulatorInjection.TryParse(i, out var parsed) ? parsed! : throw new InvalidOperationException(i)).ToList();
        double stopProbability = sim.StopEverySeconds > 0 ? 1.0 / (sim.StopEverySeconds * sim.RateHz) : 0;
        var started = time.GetUtcNow();
        if (edge is not null && client.IsConnected)
        {
            await client.SubscribeAsync(edge.CommandTopic.ToString(), MqttQualityOfServiceLevel.AtLeastOnce, stoppingToken).ConfigureAwait(false);
            Interlocked.Exchange(ref rebirthRequested, 1); // the first births
        }

        try
        {
            await RunAsync(client, edge, machines, random, commands, ids, topics, anomalyProbability, stopProbability, started, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            if (edge is not null && client.IsConnected)
            {
                // A clean end: the NDEATH first, as Sparkplug asks, since the broker sends no will after a DISCONNECT.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await client.PublishAsync(SparkplugOutput.ToMqtt(edge.Death(time.GetUtcNow())), timeout.Token).ConfigureAwait(false);
                await client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token).ConfigureAwait(false);
            }
        }
    }

    private async Task RunAsync(
        IMqttClient client, SimulatorEdgeNode? edge, SimulatedMachine[] machines, GaussianRandom random, List<SimulatorInjection> commands,
        Dictionary<string, string> ids, Dictionary<string, string> topics, double anomalyProbability, double stopProbability, DateTimeOffset started,
        CancellationToken stoppingToken)
    {
        var sim = options.Value.Simulator;
        var drifts = sim.Drift.Select(d => SimulatorDrift.TryParse(d, out var parsed) ? parsed! : throw new InvalidOperationException(d)).ToList();
        foreach (var drift in drifts)
        {
            LogDriftPlanted(logger, drift.Machine, drift.Kind, drift.Channel, drift.Amount, drift.AtSeconds, drift.RampSeconds);
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / sim.RateHz), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var now = time.GetUtcNow();
            if (edge is not null && Interlocked.Exchange(ref rebirthRequested, 0) == 1)
            {
                foreach (var birth in edge.Births(now, [.. machines.Select(m => (m.Id, m.Current))]))
                {
                    await PublishAsync(client, SparkplugOutput.ToMqtt(birth), stoppingToken).ConfigureAwait(false);
                }
            }
            double elapsed = (now - started).TotalSeconds;
            foreach (var machine in machines)
            {
                if (now < machine.SilentUntil)
                {
                    continue;
                }

                if (random.NextDouble() < stopProbability)
                {
                    machine.SilentUntil = now.AddSeconds(sim.StopSeconds);
                    LogStopped(logger, ids[machine.Id], sim.StopSeconds);
                    continue;
                }

                var values = machine.Step(random);
                machine.Drift(values, drifts.Where(d => d.Machine == machine.Id || d.Machine == ids[machine.Id]), elapsed);
                var command = commands.FirstOrDefault(c => (c.Machine == machine.Id || c.Machine == ids[machine.Id]) && c.AtSeconds <= elapsed);
                if (command is not null)
                {
                    commands.Remove(command);
                }

                if ((command is not null || random.NextDouble() < anomalyProbability) && machine.Warm)
                {
                    int channel = command is null ? random.Next(1, 3) : Array.IndexOf(Channels, command.Channel);
                    machine.Inject(values, channel, random);
                    var truth = new InjectedAnomaly(ids[machine.Id], Channels[channel], now, values[channel]);
                    lock (injected)
                    {
                        injected.Add(truth);
                    }

                    LogInjected(logger, ids[machine.Id], Channels[channel], now);
                    if (sim.GroundTruthPath is { } path)
                    {
                        await File.AppendAllTextAsync(path, string.Create(CultureInfo.InvariantCulture,
                            $$"""{"machine":"{{truth.Machine}}","channel":"{{truth.Channel}}","ts":"{{truth.Timestamp.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","value":{{truth.Value:R}}}""") + "\n", stoppingToken).ConfigureAwait(false);
                    }
                }

                if (edge is not null)
                {
                    await PublishAsync(client, SparkplugOutput.ToMqtt(edge.Data(machine.Id, now, values)), stoppingToken).ConfigureAwait(false);
                    continue;
                }

                var json = string.Create(CultureInfo.InvariantCulture,
                    $$"""{"ts":"{{now.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","pressure":{{values[0]:R}},"temperature":{{values[1]:R}},"torque":{{values[2]:R}}}""");
                var message = new MqttApplicationMessageBuilder().WithTopic(topics[machine.Id]).WithPayload(Encoding.UTF8.GetBytes(json))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
                await PublishAsync(client, message, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task PublishAsync(IMqttClient client, MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPublishFailed(logger, ex.Message);
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Simulator: {Machines} machines at {Rate} Hz on {Topics}, ...")]
    private static partial void LogStarted(ILogger logger, int machines, double rate, string topics);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Simulator injected an anomaly: machine {Machine}, channel {Channel}, at {Timestamp:O}")]
    private static partial void LogInjected(ILogger logger, string machine, string channel, DateTimeOffset timestamp);

    [LoggerMessage(EventId = 403, Level = LogLevel.Information, Message = "Simulator: machine {Machine} stops for {Seconds} s")]
    private static partial void LogStopped(ILogger logger, string machine, double seconds);

    [LoggerMessage(EventId = 404, Level = LogLevel.Information, Message = "Simulator off: the broker is external ({Host}:{Port}); set Simulator:PublishToExternalBroker to publish simulated telemetry there")]
    private static partial void LogOffExternal(ILogger logger, string host, int port);

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning, Message = "SIMULATED TELEMETRY INTO AN EXTERNAL BROKER: the simulator publishes fake machine data to {Host}:{Port} on {Topics} (Simulator:PublishToExternalBroker is true); never on a plant's broker")]
    private static partial void LogExternal(ILogger logger, string host, int port, string topics);

    [LoggerMessage(EventId = 406, Level = LogLevel.Information, Message = "Simulator drift planted: machine {Machine}, {Kind} of {Channel} by {Amount} from {At} s over {Ramp} s")]
    private static partial void LogDriftPlanted(ILogger logger, string machine, string kind, string channel, double amount, double at, double ramp);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Simulator could not publish: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, string error);
}
