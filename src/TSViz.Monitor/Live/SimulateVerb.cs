using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>`simulate`: publishes simulated machines to any MQTT broker, with anomalies at random or on command.</summary>
internal static class SimulateVerb
{
    public static Command Create(TextWriter error)
    {
        var host = new Option<string>("--host") { Description = "Broker host.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Broker port.", DefaultValueFactory = _ => 1883 };
        var machines = new Option<int>("--machines") { Description = "Simulated machines (m1, m2, ...).", DefaultValueFactory = _ => 3 };
        var rate = new Option<double>("--rate") { Description = "Samples per second per machine.", DefaultValueFactory = _ => 10 };
        var anomalyEvery = new Option<double>("--anomaly-every") { Description = "Mean seconds between random anomalies per machine (0: none).", DefaultValueFactory = _ => 20 };
        var inject = new Option<string[]>("--inject") { Description = "Anomalies on command: machine:channel@seconds, e.g. m2:temperature@30.", AllowMultipleArgumentsPerToken = true };
        var drift = new Option<string[]>("--drift") { Description = "Slow changes planted on command: machine:level|ripple:channel=amount@seconds[+ramp], e.g. m2:level:pressure=0.5@600 or m1:ripple:torque=0.2@600+1800.", AllowMultipleArgumentsPerToken = true };
        var stopEvery = new Option<double>("--stop-every") { Description = "Mean seconds between a machine stopping for --stop-seconds (0: never).", DefaultValueFactory = _ => 0 };
        var stopSeconds = new Option<double>("--stop-seconds") { Description = "How long a stopped machine stays silent.", DefaultValueFactory = _ => 10 };
        var groundTruth = new Option<string?>("--ground-truth") { Description = "Append every injected anomaly to this JSON-lines file." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds (default: until Ctrl+C)." };
        var topic = new Option<string>("--topic-pattern") { Description = "Topic pattern; {machine} becomes m1, m2, ..., every other placeholder or + the line (line1).", DefaultValueFactory = _ => "plant/{line}/{machine}/telemetry" };
        var username = new Option<string?>("--username") { Description = "User name at the broker (a gateway user); the password is read from standard input." };
        var sparkplug = new Option<bool>("--sparkplug") { Description = "Publish as a Sparkplug B edge node (spBv1.0/{group}/.../sim, devices m1, m2, ...) instead of JSON samples." };
        var group = new Option<string>("--group") { Description = "The Sparkplug group (with --sparkplug).", DefaultValueFactory = _ => "plant" };
        var command = new Command("simulate", "Publish simulated pressure/temperature/torque streams to an MQTT broker, logging the injected anomalies.")
        {
            host, port, machines, rate, anomalyEvery, inject, drift, stopEvery, stopSeconds, groundTruth, seed, duration, topic, username, sparkplug, group,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string? user = parse.GetValue(username);
            string? password = user is null ? null : (await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false))?.TrimEnd('\r');
            var options = new MonitorOptions
            {
                Mqtt = new MqttSettings
                {
                    Host = parse.GetValue(host)!, Port = parse.GetValue(port), EmbeddedBroker = false, ClientId = "tsviz", TopicPattern = parse.GetValue(topic)!,
                    Username = user, Password = password, AllowPlainPassword = true, // the verb is a test tool; the operator chose the broker
                },
                Simulator = new SimulatorSettings
                {
                    PublishToExternalBroker = true, // publishing to the named broker is what this verb is for
                    Machines = parse.GetValue(machines),
                    RateHz = parse.GetValue(rate),
                    AnomalyEverySeconds = parse.GetValue(anomalyEvery),
                    Inject = parse.GetValue(inject) ?? [],
                    Drift = parse.GetValue(drift) ?? [],
                    StopEverySeconds = parse.GetValue(stopEvery),
                    StopSeconds = parse.GetValue(stopSeconds),
                    GroundTruthPath = parse.GetValue(groundTruth),
                    Seed = parse.GetValue(seed),
                    Sparkplug = parse.GetValue(sparkplug),
                    SparkplugGroup = parse.GetValue(group)!,
                },
            };
            var validation = new MonitorOptionsValidator().Validate(null, options);
            if (validation.Failed)
            {
                await error.WriteLineAsync($"error: {validation.FailureMessage}").ConfigureAwait(false);
                return 2;
            }

            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddSingleton(Options.Create(options));
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddHostedService<Simulator>();
            using var app = builder.Build();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (parse.GetValue(duration) is double seconds)
            {
                stop.CancelAfter(TimeSpan.FromSeconds(seconds));
            }

            try
            {
                await app.RunAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // --duration elapsed.
            }

            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Simulation ended.")).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
