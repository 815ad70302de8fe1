using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Tests.Live;

public sealed class StageHealthTests
{
    private readonly FakeTimeProvider time = new();
    private readonly StageHealth health;

    public StageHealthTests() => health = new StageHealth(time, Options.Create(new MonitorOptions { Health = new HealthSettings { StallSeconds = 30 } }));

    [Fact]
    public void Report_IdleForAnHourThenInputArrives_NotStalledUntilTheStallTimePasses()
    {
        var stage = health.Register("ingest");
        time.Advance(TimeSpan.FromHours(1));
        stage.Waiting(3);
        Assert.Equal(StageState.Running, health.Report().Single().State);

        time.Advance(TimeSpan.FromSeconds(31));
        var report = health.Report().Single();
        Assert.Equal(StageState.Stalled, report.State);
        Assert.Equal(31, report.SecondsSinceProgress, 3);

        stage.Progress();
        Assert.Equal(StageState.Running, health.Report().Single().State);
    }

    [Fact]
    public void Failing_StallUnderBackpressureOrFault_OnlyTheFaultCounts()
    {
        var ingest = health.Register("ingest");
        var history = health.Register("history");
        ingest.Waiting(1);
        history.Waiting(1);
        history.Backpressure("database is locked");
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(health.Failing(TimeSpan.FromSeconds(120)));

        history.Backpressure(null);
        Assert.Equal("ingest", health.Failing(TimeSpan.FromSeconds(120))!.Name);

        ingest.Progress();
        history.Progress();
        ingest.Fault(new InvalidOperationException("boom"));
        var failing = health.Failing(TimeSpan.FromSeconds(120))!;
        Assert.Equal(StageState.Faulted, failing.State);
        Assert.Contains("boom", failing.Fault, StringComparison.Ordinal);
    }
}
