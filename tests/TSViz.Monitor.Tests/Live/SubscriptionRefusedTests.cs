using Microsoft.Extensions.DependencyInjection;
using TSViz.Monitor.Live;
using TSViz.Monitor.MqttSecurity;
using TSViz.Monitor.Tests.MqttSecurity;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// A broker that accepts the connection but refuses the telemetry subscription (here: a monitor's embedded broker, whose
/// policy lets a viewer read the monitor's output only). Before the fix the monitor reported itself connected and
/// healthy and received nothing, silently; now the refusal fails the connection: not connected, counted by reason,
/// logged with the filter, retried.
/// </summary>
public sealed class SubscriptionRefusedTests
{
    [Fact]
    public async Task Run_BrokerRefusesTheTelemetrySubscription_NotConnectedCountedAndRetried()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        const string password = "viewer-secret-9";
        var (broker, brokerPort) = await BrokerSecurityTests.StartMonitor(new()
        {
            ["Monitor:Mqtt:Users:0:Username"] = "dashboard",
            ["Monitor:Mqtt:Users:0:Role"] = "viewer",
            ["Monitor:Mqtt:Users:0:PasswordHash"] = PasswordHash.Create(password, PasswordHash.MinimumIterations),
        }, cancel.Token);
        await using var brokerHost = broker;

        await using var app = MosquittoIntegrationTests.Monitor(brokerPort, new()
        {
            ["Monitor:Mqtt:Username"] = "dashboard",
            ["Monitor:Mqtt:Password"] = password,
            ["Monitor:Mqtt:ClientId"] = $"tsviz-refused-{brokerPort}",
            ["Monitor:Simulator:Enabled"] = "false",
            ["Monitor:Jobs:Enabled"] = "false",
        });
        await app.StartAsync(cancel.Token);
        try
        {
            var metrics = app.Services.GetRequiredService<LiveMetrics>();
            var gateway = app.Services.GetRequiredService<MqttGateway>();
            // Two refusals: the first connection and at least one retry after the backoff.
            await LiveTestMonitor.Until(() => metrics.SubscriptionsRefused.WithLabels("not_authorized").Value >= 2, cancel.Token,
                () => $"refused {metrics.SubscriptionsRefused.WithLabels("not_authorized").Value} times");
            Assert.False(gateway.IsConnected);
            Assert.Equal(0, metrics.BrokerConnected.Value);
            Assert.Equal(0, metrics.Reconnects.Value); // never counted as connected
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await broker.StopAsync(CancellationToken.None);
        }
    }
}
