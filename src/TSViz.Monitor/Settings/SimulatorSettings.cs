namespace TSViz.Monitor.Settings;

public sealed class SimulatorSettings
{
    /// <summary>Publish simulated machines into the broker the monitor uses (the embedded defaults' demo).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Let the simulator publish into an external broker (Mqtt:EmbeddedBroker false); off, it stays quiet there so no
    /// fake telemetry reaches a plant's broker.
    /// </summary>
    public bool PublishToExternalBroker { get; set; }

    public int Machines { get; set; } = 3;

    public double RateHz { get; set; } = 10;

    /// <summary>Mean seconds between injected anomalies per machine (0: none).</summary>
    public double AnomalyEverySeconds { get; set; } = 20;

    public string Line { get; set; } = "line1";

    public int Seed { get; set; } = 1;

    /// <summary>Anomalies on command, "machine:channel@seconds" after start (e.g. "m2:temperature@30").</summary>
    public string[] Inject { get; set; } = [];

    /// <summary>Slow changes planted on command: machine:level|ripple:channel=amount@seconds[+ramp] (<see cref="SimulatorDrift"/>).</summary>
    public string[] Drift { get; set; } = [];

    /// <summary>Mean seconds between a machine stopping (0: never); it stays silent for <see cref="StopSeconds"/>.</summary>
    public double StopEverySeconds { get; set; }

    public double StopSeconds { get; set; } = 10;

    /// <summary>A JSON-lines file the injected anomalies are appended to (the ground truth), if set.</summary>
    public string? GroundTruthPath { get; set; }

    /// <summary>Publish as a Sparkplug B edge node ("sim" in <see cref="SparkplugGroup"/>, devices m1..mN) instead of JSON samples.</summary>
    public bool Sparkplug { get; set; }

    /// <summary>The Sparkplug group of the simulated edge node.</summary>
    public string SparkplugGroup { get; set; } = "plant";

    /// <summary>Section Monitor:Simulator's rules.</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(Machines is >= 1 and <= 10_000, "Simulator:Machines", "must lie in 1..10000", Machines);
        failures.Check(RateHz is > 0 and <= 10_000, "Simulator:RateHz", "must lie in (0, 10000]", RateHz);
        failures.Check(AnomalyEverySeconds >= 0, "Simulator:AnomalyEverySeconds", "must not be negative", AnomalyEverySeconds);
        failures.Check(StopEverySeconds >= 0, "Simulator:StopEverySeconds", "must not be negative", StopEverySeconds);
        foreach (var injection in Inject)
        {
            failures.Check(SimulatorInjection.TryParse(injection, out _), "Simulator:Inject", "entries must read machine:channel@seconds with channel temperature, torque or pressure", injection);
        }

        foreach (var (drift, index) in Drift.Select((d, i) => (d, i)))
        {
            failures.Check(SimulatorDrift.TryParse(drift, out _), string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Simulator:Drift:{index}"), "entries must read machine:level|ripple:channel=amount@seconds[+ramp], e.g. m2:level:pressure=0.5@600 or m1:ripple:torque=0.2@600+1800", drift);
        }

        failures.Check(!Sparkplug || TSViz.Plugins.Sparkplug.SparkplugTopic.IsValidId(SparkplugGroup), "Simulator:SparkplugGroup",
            "must be a Sparkplug id: non-empty, without '+', '/' or '#'", SparkplugGroup);
    }
}
