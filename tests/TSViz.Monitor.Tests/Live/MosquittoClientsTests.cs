using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Tests.Docs;
using TSViz.Tests.Shared;
using Xunit.Abstractions;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// Debian's mosquitto_sub and mosquitto_pub against the monitor's embedded broker on its defaults and against a plant's
/// Mosquitto (config/mosquitto/plant.conf) with the monitor on it: every command the README and the docs/ pages print,
/// verbatim, and both MQTT versions with and without a client id (issue 15: without -i, MQTT 3.1.1 sends an empty one).
/// </summary>
[Collection(DefaultMqttPort.Name)]
public sealed class MosquittoClientsTests(ITestOutputHelper output)
{
    private const int DefaultPort = 1883;
    private static readonly TimeSpan ExplanationTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ReadmeCommands_VerbatimAgainstTheMonitorOnItsEmbeddedDefaults_SubscribersPrintExplanationsAndPublishersDeliver()
    {
        var commands = ReadmeCommands();
        RequireDefaultPortFree();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var app = EmbeddedDefaults(DefaultPort);
        await using (app)
        {
            await app.StartAsync(cancel.Token);
            try
            {
                await RunAll(commands, DefaultPort, cancel.Token);
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task ReadmeCommands_VerbatimAgainstPlantMosquittoWithTheMonitorOnIt_SubscribersPrintExplanationsAndPublishersDeliver()
    {
        var commands = ReadmeCommands();
        RequireDefaultPortFree();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await using var broker = await MosquittoBroker.StartAsync(port: DefaultPort);
        var app = MosquittoIntegrationTests.Monitor(DefaultPort, new() { ["Monitor:Simulator:Enabled"] = "true" });
        await using (app)
        {
            await app.StartAsync(cancel.Token);
            try
            {
                await RunAll(commands, DefaultPort, cancel.Token);
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
            }
        }
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("mosquitto")]
    public async Task Clients_MqttV311AndV5WithAndWithoutClientId_SubscribeToExplanationsAndPublish(string brokerKind)
    {
        MosquittoClientCommands.RequireInstalled();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        int port = Loopback.FreePort();
        await using var broker = brokerKind == "mosquitto" ? await MosquittoBroker.StartAsync(port: port) : null;
        var app = broker is null ? EmbeddedDefaults(port) : MosquittoIntegrationTests.Monitor(port, new() { ["Monitor:Simulator:Enabled"] = "true" });
        await using (app)
        {
            await app.StartAsync(cancel.Token);
            try
            {
                foreach (string version in new[] { "mqttv311", "mqttv5" })
                {
                    foreach (string? id in new[] { null, $"clients-{version}" })
                    {
                        string Connection(string role) => $"-V {version}{(id is null ? "" : $" -i {id}-{role}")} -h 127.0.0.1 -p {port}";
                        string sub = $"mosquitto_sub {Connection("sub")} -t 'tsviz/v1/+/+/explanation'";
                        string line = await MosquittoClientCommands.SubscribeUntilExplanationAsync(sub, ExplanationTimeout, cancel.Token);
                        output.WriteLine($"{sub}\n  printed {Shorten(line)}");
                        string pub = $"mosquitto_pub {Connection("pub")} -t tsviz-test/clients -m '{version} {id ?? "without id"}'";
                        await MosquittoClientCommands.PublishAndSeeItArriveAsync(pub, port, cancel.Token);
                        output.WriteLine($"{pub}\n  exit 0, delivered");
                    }
                }
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// The mosquitto_sub and mosquitto_pub commands of README.md and of every page under docs/, read now (each file on its
    /// own, then once each): one a page gains, or one that moves between pages, is covered too.
    /// </summary>
    private static IReadOnlyList<string> ReadmeCommands()
    {
        MosquittoClientCommands.RequireInstalled();
        var files = Documentation.Files();
        IReadOnlyList<string> commands = [.. files.SelectMany(file => MosquittoClientCommands.Extract(File.ReadAllText(file))).Distinct(StringComparer.Ordinal)];
        Assert.True(commands.Count > 0, $"README.md and docs/ print no mosquitto_sub or mosquitto_pub command (inline code or a code block line starting with one) in {files.Count} files: has the extraction or the documentation changed?");
        return commands;
    }

    private async Task RunAll(IReadOnlyList<string> commands, int port, CancellationToken cancellationToken)
    {
        foreach (string command in commands)
        {
            if (MosquittoClientCommands.IsSubscriber(command))
            {
                string line = await MosquittoClientCommands.SubscribeUntilExplanationAsync(command, ExplanationTimeout, cancellationToken);
                output.WriteLine($"{command}\n  printed {Shorten(line)}");
            }
            else
            {
                await MosquittoClientCommands.PublishAndSeeItArriveAsync(command, port, cancellationToken);
                output.WriteLine($"{command}\n  exit 0, delivered");
            }
        }
    }

    /// <summary>
    /// The README's commands take the default port, so these tests need 127.0.0.1:1883: when something else holds it (a
    /// Mosquitto service, a running monitor), the commands would reach that instead, so the test stops here and says so.
    /// </summary>
    private static void RequireDefaultPortFree()
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, DefaultPort);
            probe.Start();
            probe.Stop();
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException(
                $"127.0.0.1:{DefaultPort} is taken ({ex.SocketErrorCode}): the README's MQTT commands use the default port, so this test runs its broker there. " +
                "Stop what listens on it (a mosquitto service? a monitor started by hand?) and run the test again.", ex);
        }
    }

    /// <summary>
    /// The monitor on the shipped defaults (embedded broker on 127.0.0.1, anonymous loopback demo, simulator on) with its
    /// own history file and HTTP port, and the broker on <paramref name="port"/>.
    /// </summary>
    private static WebApplication EmbeddedDefaults(int port) => MonitorHost.Build(new Dictionary<string, string?>
    {
        ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
        ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
        ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort()}",
        ["Monitor:Mqtt:Port"] = port.ToString(CultureInfo.InvariantCulture),
    });

    private static string Shorten(string line) => line.Length > 100 ? line[..100] + "..." : line;
}
