using TSViz.Explain.Data;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>
/// One simulated machine: pressure, temperature and torque as random walks pulled gently back to their operating
/// points (5 bar, 80 degC, 12 Nm), with the slow changes planted on it (<see cref="SimulatorDrift"/>) and point
/// anomalies of 4-6 recent standard deviations. The simulator publishes it; the drift benchmark steps it offline.
/// </summary>
internal sealed class SimulatedMachine
{
    public static readonly string[] Channels = ["pressure", "temperature", "torque"];
    public static readonly double[] Offsets = [5.0, 80.0, 12.0];
    public static readonly double[] Steps = [0.02, 0.2, 0.05];
    private const int History = 50;

    private readonly double[] level = new double[3];
    private readonly double[][] history = [new double[History], new double[History], new double[History]];
    private long count;

    public SimulatedMachine(string id, GaussianRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Id = id;
        for (int c = 0; c < 3; c++)
        {
            level[c] = Offsets[c] + random.Normal(0, Steps[c] * 10);
        }
    }

    public string Id { get; }

    public DateTimeOffset SilentUntil { get; set; }

    public bool Warm => count >= History;

    /// <summary>The latest values (pressure, temperature, torque), for a birth.</summary>
    public double[] Current => [.. level];

    public double[] Step(GaussianRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var values = new double[3];
        for (int c = 0; c < 3; c++)
        {
            // A random walk pulled gently back to the operating point.
            level[c] += random.Normal(0, Steps[c]) - (0.01 * (level[c] - Offsets[c]));
            history[c][count % History] = level[c];
            values[c] = level[c];
        }

        count++;
        return values;
    }

    /// <summary>Adds the planted changes in effect <paramref name="elapsedSeconds"/> into the run to this sample's values.</summary>
    public void Drift(double[] values, IEnumerable<SimulatorDrift> drifts, double elapsedSeconds)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(drifts);
        foreach (var drift in drifts)
        {
            values[Array.IndexOf(Channels, drift.Channel)] += drift.Offset(elapsedSeconds, count);
        }
    }

    /// <summary>Pushes one channel's value 4-6 recent standard deviations away (a point anomaly); returns the new value.</summary>
    public double Inject(double[] values, int channel, GaussianRandom random)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(random);
        double spread = Math.Max(Spread(channel), Steps[channel]);
        values[channel] += Math.Sign(random.Normal()) * random.Normal(5, 0.5) * spread;
        return values[channel];
    }

    public double Spread(int channel)
    {
        var h = history[channel];
        double mean = h.Average();
        return Math.Sqrt(h.Select(v => (v - mean) * (v - mean)).Average());
    }
}
