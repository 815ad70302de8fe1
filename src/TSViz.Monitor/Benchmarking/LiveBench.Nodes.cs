using System.Diagnostics;
using System.Globalization;

namespace TSViz.Monitor.Benchmarking;

/// <summary>
/// `bench --live --nodes 1,2,3`: the standalone monitor (SQLite history as shipped, then PostgreSQL history, the fair
/// baseline) and cluster mode with each node count given, one after the other in one run, all on one Mosquitto and one
/// PostgreSQL 15 the bench starts in a temporary folder (as scripts/cluster-demo.sh does) and removes afterwards. Each
/// configuration gets the same offered steady rate, a fresh database and fresh MQTT sessions; the explanations of all
/// nodes are merged by one subscriber. Everything shares this machine's cores, so the figures show cluster mode's
/// overhead, not a speed-up.
/// </summary>
internal static partial class LiveBench
{
    /// <summary>The most nodes one run starts on this machine (each node is a monitor with its own model sessions).</summary>
    public const int MaxNodes = 8;

    /// <summary>The issue's bar: cluster mode on one node keeps at least this share of standalone throughput.</summary>
    private const double OneNodeBar = 0.8;

    /// <summary>Parses `--nodes`: node counts 1..<see cref="MaxNodes"/>, comma-separated (the option may also be repeated).</summary>
    public static IReadOnlyList<int> ParseNodes(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var nodes = new List<int>();
        foreach (string value in values)
        {
            foreach (string part in value.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > MaxNodes)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"--nodes takes node counts in 1..{MaxNodes}, comma-separated or repeated (e.g. --nodes 1,2,3), got '{value}'"));
                }

                nodes.Add(n);
            }
        }

        return nodes;
    }

    /// <summary>Checks the settings of a `--nodes` run before anything is started.</summary>
    private static void ValidateNodes(LiveBenchSettings settings)
    {
        if (settings.SoakMinutes > 0)
        {
            throw new ArgumentException("--nodes and --soak-minutes cannot be combined: the cluster comparison runs the steady phase only");
        }

        if (settings.Rate < 1 || settings.Machines < 1 || settings.SteadySeconds <= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--nodes needs --rate >= 1, --machines >= 1 and --steady-seconds > 0, got --rate {settings.Rate} --machines {settings.Machines} --steady-seconds {settings.SteadySeconds}"));
        }
    }

    private sealed record Configuration(string Name, int Nodes, bool Postgres);

    private static async Task<int> RunNodesAsync(LiveBenchSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        ValidateNodes(settings);
        PostgresProcess.EnsureInstalled(mosquitto: settings.Broker is null);
        string work = Path.GetFullPath(Path.Combine("artifacts", "bench-live", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-nodes"));
        Directory.CreateDirectory(work);
        await using var mosquitto = settings.Broker is null ? await MosquittoProcess.StartAsync(work, cancellationToken).ConfigureAwait(false) : null;
        var (host, port) = mosquitto is not null ? ("127.0.0.1", mosquitto.Port) : ParseBroker(settings.Broker!);
        await using var postgres = await PostgresProcess.StartAsync(cancellationToken).ConfigureAwait(false);
        var warmUp = TimeSpan.FromSeconds(10);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TSViz live bench, standalone vs cluster mode: {settings.ModelPath} through {(mosquitto is null ? $"the broker at {host}:{port}" : $"Mosquitto {host}:{port} (config/mosquitto/plant.conf)")}, PostgreSQL 15 on 127.0.0.1:{postgres.Port} (temporary), {Environment.ProcessorCount} cores"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"all of it (every node, the broker, PostgreSQL, the load generator) shares these {Environment.ProcessorCount} cores: the figures show cluster mode's overhead, not a speed-up"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load per configuration: {settings.Rate:N0} samples/s offered ({settings.Rate / (double)settings.Hop:N0} windows/s), {settings.Machines} machines, {settings.SamplesPerMessage} samples per message, QoS 1, hop {settings.Hop}; {settings.SteadySeconds:0.#} s measured after {warmUp.TotalSeconds:0} s warm-up; a fresh database and MQTT sessions each; every window explained"));
        output.WriteLine("windows/s: explanations received per second from all nodes (one subscriber); latency from the publish of the message holding the window's last sample (cluster mode holds samples Cluster:ReorderMilliseconds, 2 s by default, before they are windowed); ratio: windows/s over standalone (PostgreSQL)'s; dropped: samples the monitors dropped (out of order, ...) since they started, warm-up included; cores: the monitors' CPU; w/core-s: windows per second per core the monitors used (less sensitive to other work on the machine); load: the machine's 1-minute load average at the end (other work on the machine shows here)");

        var load = new LoadGenerator(host, port, settings);
        await load.ConnectAsync(cancellationToken).ConfigureAwait(false);
        var running = load.RunAsync(cancellationToken);
        var explanations = await LatencyObserver.StartAsync(host, port, "tsviz/v1/+/+/explanation", load, isExplanation: true, cancellationToken).ConfigureAwait(false);
        var configurations = new List<Configuration> { new("standalone, SQLite history", 0, false), new("standalone, PostgreSQL history", 0, true) };
        configurations.AddRange(settings.Nodes.Select(n => new Configuration(string.Create(CultureInfo.InvariantCulture, $"cluster, {n} node{(n == 1 ? string.Empty : "s")}"), n, true)));
        var results = new List<(Configuration Configuration, Measurement Measurement, double Cores)>();
        output.WriteLine($"{"configuration",-34} {"offered/s",10} {"ingested/s",11} {"windows/s",10} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8} {"ratio",6} {"dropped",8} {"cores",6} {"w/core-s",9} {"load",5}");
        try
        {
            for (int c = 0; c < configurations.Count; c++)
            {
                var configuration = configurations[c];
                var (measurement, cores, loadAverage) = await MeasureConfigurationAsync(settings, configuration, c, load, explanations, host, port, postgres, work, warmUp, cancellationToken).ConfigureAwait(false);
                results.Add((configuration, measurement, cores));
                double? baseline = results.FirstOrDefault(r => r.Configuration.Nodes == 0 && r.Configuration.Postgres).Measurement?.Windows;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{configuration.Name,-34} {measurement.Offered,10:N0} {measurement.Ingested,11:N0} {measurement.Windows,10:N0} {measurement.P50,8:N1} {measurement.P95,8:N1} {measurement.P99,8:N1} {measurement.Max,8:N1} {(baseline is > 0 ? $"{measurement.Windows / baseline.Value:N2}" : "-"),6} {measurement.Dropped,8:N0} {cores,6:N2} {(cores > 0 ? measurement.Windows / cores : double.NaN),9:N0} {loadAverage,5:N1}"));
            }
        }
        finally
        {
            load.SetRate(0);
            await load.DisposeAsync().ConfigureAwait(false);
            await running.ConfigureAwait(false);
            await explanations.DisposeAsync().ConfigureAwait(false);
        }

        var (_, standaloneMeasurement, standaloneCores) = results.First(r => r.Configuration.Nodes == 0 && r.Configuration.Postgres);
        double standalone = standaloneMeasurement.Windows;
        var (_, oneNode, oneNodeCores) = results.FirstOrDefault(r => r.Configuration.Nodes == 1);
        if (oneNode is null)
        {
            output.WriteLine("check: cluster mode on one node costs at most 20 % of standalone throughput: not measured (add 1 to --nodes)");
        }
        else
        {
            double ratio = standalone > 0 ? oneNode.Windows / standalone : 0;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"check: cluster mode on one node costs at most {1 - OneNodeBar:P0} of standalone throughput (PostgreSQL history both): {(ratio >= OneNodeBar ? "PASS" : "FAIL")}, ratio {ratio:N2} ({oneNode.Windows:N0} vs {standalone:N0} windows/s, cost {1 - ratio:P0}); per core used: ratio {(oneNode.Windows / oneNodeCores) / (standalone / standaloneCores):N2}"));
        }

        if (load.PublishFailures > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gateway publishes not acknowledged by the broker in time (not counted as offered): {load.PublishFailures:N0}"));
        }

        output.WriteLine($"logs: {work}/<configuration>-<node>.log");
        return 0;
    }

    /// <summary>Starts one configuration's monitor(s), offers the steady rate, measures, stops them and lets their MQTT sessions expire.</summary>
    private static async Task<(Measurement Measurement, double Cores, double LoadAverage)> MeasureConfigurationAsync(
        LiveBenchSettings settings, Configuration configuration, int index, LoadGenerator load, LatencyObserver explanations, string host, int port,
        PostgresProcess postgres, string work, TimeSpan warmUp, CancellationToken cancellationToken)
    {
        string tag = configuration.Nodes == 0 ? (configuration.Postgres ? "standalone-pg" : "standalone-sqlite") : string.Create(CultureInfo.InvariantCulture, $"cluster{configuration.Nodes}");
        string database = string.Create(CultureInfo.InvariantCulture, $"bench{index}");
        if (configuration.Postgres)
        {
            await postgres.CreateDatabaseAsync(database, cancellationToken).ConfigureAwait(false);
        }

        var monitors = new List<(Process Process, HttpClient Http)>();
        try
        {
            for (int n = 1; n <= Math.Max(1, configuration.Nodes); n++)
            {
                int httpPort = MosquittoProcess.FreePort();
                var extra = new Dictionary<string, string>
                {
                    ["Monitor__Jobs__Enabled"] = "false", // the nightly jobs are not part of the live path (and clustered, they need Quartz's tables)
                    ["Monitor__Mqtt__ClientId"] = $"tsviz-bench-{tag}-{httpPort}",
                };
                if (configuration.Postgres)
                {
                    extra["Monitor__History__Provider"] = "postgres";
                    extra["Monitor__History__ConnectionString"] = postgres.ConnectionString(database);
                }
                else
                {
                    extra["Monitor__History__Path"] = Path.Combine(work, tag + ".db");
                }

                if (configuration.Nodes > 0)
                {
                    extra["Monitor__Cluster__Enabled"] = "true";
                    extra["Monitor__Cluster__ClusterId"] = $"bench-{tag}";
                    extra["Monitor__Cluster__NodeName"] = string.Create(CultureInfo.InvariantCulture, $"node{n}");
                    extra["Monitor__Cluster__SiloPort"] = MosquittoProcess.FreePort().ToString(CultureInfo.InvariantCulture);
                    extra["Monitor__Cluster__GatewayPort"] = MosquittoProcess.FreePort().ToString(CultureInfo.InvariantCulture);
                }

                var process = StartMonitor(settings, host, port, httpPort, Path.Combine(work, string.Create(CultureInfo.InvariantCulture, $"{tag}-{n}.log")), extra);
                monitors.Add((process, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") }));
            }

            foreach (var (process, http) in monitors)
            {
                await WaitHealthy(http, process, cancellationToken, seconds: 180).ConfigureAwait(false);
            }

            load.SetRate(settings.Rate);
            await Task.Delay(warmUp, cancellationToken).ConfigureAwait(false);
            double cpu0 = monitors.Sum(m => CpuSeconds(m.Process.Id));
            var watch = Stopwatch.StartNew();
            var measurement = await MeasureNodes(load, explanations, monitors.Select(m => m.Http).ToList(), TimeSpan.FromSeconds(settings.SteadySeconds), cancellationToken).ConfigureAwait(false);
            double cores = (monitors.Sum(m => CpuSeconds(m.Process.Id)) - cpu0) / watch.Elapsed.TotalSeconds;
            load.SetRate(0);
            return (measurement, cores, LoadAverage());
        }
        finally
        {
            load.SetRate(0);
            foreach (var (process, http) in monitors)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                process.Dispose();
                http.Dispose();
            }

            // The monitors' sessions (Mqtt:SessionExpirySeconds 10 in the bench) expire before the next configuration
            // subscribes: an expired cluster member no longer takes its share of the input.
            await Task.Delay(TimeSpan.FromSeconds(11), CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>The machine's 1-minute load average (0 off Linux).</summary>
    private static double LoadAverage()
        => OperatingSystem.IsLinux() ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : 0;

    /// <summary>Like <see cref="Measure"/>, over several monitors: their ingest and drops summed, the explanations of all of them.</summary>
    private static async Task<Measurement> MeasureNodes(LoadGenerator load, LatencyObserver observer, IReadOnlyList<HttpClient> nodes, TimeSpan duration, CancellationToken cancellationToken)
    {
        async Task<double> Sum(string metric)
        {
            double sum = 0;
            foreach (var http in nodes)
            {
                sum += await Scrape(http, metric, cancellationToken).ConfigureAwait(false);
            }

            return sum;
        }

        long samples0 = load.SamplesAcknowledged;
        double received0 = await Sum("tsviz_messages_received_total").ConfigureAwait(false);
        observer.Reset();
        var watch = Stopwatch.StartNew();
        double maxQueue = 0;
        while (watch.Elapsed < duration)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            maxQueue = Math.Max(maxQueue, await Sum("tsviz_queue_depth_windows").ConfigureAwait(false));
        }

        double seconds = watch.Elapsed.TotalSeconds;
        var latencies = observer.Latencies();
        double offered = (load.SamplesAcknowledged - samples0) / seconds;
        double ingested = (await Sum("tsviz_messages_received_total").ConfigureAwait(false) - received0) * load.SamplesPerMessage / seconds;
        // Since the monitors started (each configuration has fresh ones): a sample lost while the owners came up counts too.
        double dropped = await Sum("tsviz_samples_dropped_total").ConfigureAwait(false);
        return new Measurement(offered, ingested, latencies.Length / seconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99), latencies.Length == 0 ? double.NaN : latencies[^1], maxQueue, dropped);
    }
}
