using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Protocol;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Benchmarking;

/// <summary>What `bench --live` drives through the broker.</summary>
internal sealed record LiveBenchSettings
{
    public required string ModelPath { get; init; }

    /// <summary>Samples per second offered in the steady phase, over all machines.</summary>
    public int Rate { get; init; } = 20_000;

    public int Machines { get; init; } = 40;

    /// <summary>Samples per MQTT message (a gateway's batch payload).</summary>
    public int SamplesPerMessage { get; init; } = 10;

    public int Hop { get; init; } = 10;

    public double SteadySeconds { get; init; } = 20;

    /// <summary>Offered rate of the overload phase as a multiple of <see cref="Rate"/> (0: no overload phase).</summary>
    public double Overload { get; init; } = 3;

    /// <summary>
    /// Steps of offered samples/s of the capacity search (0: no search): from the steady rate up by this much at a time,
    /// until the monitor no longer keeps up; the highest rate it kept up with is its sustained capacity.
    /// </summary>
    public int CapacityStep { get; init; }

    /// <summary>Clients flooding the explorer API (/influence and /trace) in a phase as long as the steady one, at the steady rate (0: no flood phase).</summary>
    public int FloodClients { get; init; } = 8;

    /// <summary>host:port of a running broker; unset: a Mosquitto started here with config/mosquitto/plant.conf.</summary>
    public string? Broker { get; init; }

    /// <summary>Minutes of the soak (steady rate with alerts, a memory curve per minute); 0: the phases of the normal run.</summary>
    public int SoakMinutes { get; init; }

    /// <summary>Mean seconds between two anomalies of one machine (a temperature spike the model flags); 0: none.</summary>
    public double AnomalyEverySeconds { get; init; }

    /// <summary>The monitor's C allocator (Monitor:Health:NativeAllocator: auto, jemalloc, glibc); null: its configuration's.</summary>
    public string? Allocator { get; init; }

    /// <summary>
    /// Node counts of the cluster configurations measured after the standalone monitor, in one run (`--nodes 1,2,3`);
    /// empty: the normal phases, no cluster.
    /// </summary>
    public IReadOnlyList<int> Nodes { get; init; } = [];

    /// <summary>
    /// The MQTT clients of the bench's own gateways and latency observer: <c>raw</c>, a lean client on a socket
    /// (<see cref="RawMqttClient"/>), or <c>mqttnet</c>, MQTTnet's client as the monitor uses it (the harness of every figure
    /// before 2026-12-05). The messages on the wire are the same; the harness's own CPU on the shared cores is not.
    /// </summary>
    public string Harness { get; init; } = "raw";

    /// <summary>The monitor executable measured (another build's, for a before/after comparison under one harness); null: this one.</summary>
    public string? MonitorExecutable { get; init; }
}

/// <summary>
/// `bench --live`: the whole live path through a real Mosquitto on loopback. The monitor runs as its own process
/// (so its memory is its own); gateways publish batched JSON samples for many machines at a fixed rate; a subscriber
/// times each explanation from the moment the message holding the window's last sample was published. A transport
/// baseline (the same load relayed by the broker alone) is measured in the same run, then a steady phase, the same
/// load while clients flood the explorer API (<see cref="InteractiveFlood"/>), then an overload phase and the
/// recovery after it. With a soak time, the steady rate runs with anomalies instead, for minutes, and a memory
/// curve is printed (LiveBench.Soak.cs).
/// </summary>
internal static partial class LiveBench
{
    private const int Publishers = 4;

    public static async Task<int> RunAsync(LiveBenchSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        ValidateSoak(settings);
        if (settings.CapacityStep < 0 || (settings.CapacityStep > 0 && (settings.SoakMinutes > 0 || settings.Nodes.Count > 0)))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--capacity-step must be positive, and it measures the standalone monitor's phases, not a soak or --nodes (got {settings.CapacityStep})"));
        }

        if (settings.MonitorExecutable is { } executable && !File.Exists(executable))
        {
            throw new ArgumentException($"--monitor: no executable at {executable}");
        }

        if (settings.Harness is not ("raw" or "mqttnet"))
        {
            throw new ArgumentException($"--harness must be raw or mqttnet (got '{settings.Harness}')");
        }

        if (settings.Nodes.Count > 0)
        {
            return await RunNodesAsync(settings, output, cancellationToken).ConfigureAwait(false);
        }

        string work = Path.Combine("artifacts", "bench-live", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(work);
        await using var mosquitto = settings.Broker is null ? await MosquittoProcess.StartAsync(Path.GetFullPath(work), cancellationToken).ConfigureAwait(false) : null;
        var (host, port) = mosquitto is not null ? ("127.0.0.1", mosquitto.Port) : ParseBroker(settings.Broker!);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TSViz live bench: {settings.ModelPath} through {(mosquitto is null ? $"the broker at {host}:{port}" : $"Mosquitto {host}:{port} (config/mosquitto/plant.conf)")}, {Environment.ProcessorCount} cores{(settings.MonitorExecutable is { } exe ? $", monitor {exe}" : "")}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load: {settings.Machines} machines, {settings.SamplesPerMessage} samples per message (batched JSON payloads), QoS 1, hop {settings.Hop}, gateways and observer on the {settings.Harness} MQTT client, every window explained (saliency, influence, top filters, FGSM score; flip search and filter saliency on alert windows)"));

        var load = new LoadGenerator(host, port, settings);
        await load.ConnectAsync(cancellationToken).ConfigureAwait(false);
        Task running;
        Measurement? baseline = null;
        if (settings.SoakMinutes > 0)
        {
            PrintSoakLoad(output, settings, load);
            running = load.RunAsync(cancellationToken);
        }
        else
        {
            // Transport baseline: the same load, relayed by the broker to a subscriber, no monitor.
            var relay = await LatencyObserver.StartAsync(host, port, "plant/bench/+/telemetry", load, isExplanation: false, cancellationToken).ConfigureAwait(false);
            running = load.RunAsync(cancellationToken);
            load.SetRate(settings.Rate);
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            baseline = await Measure(load, relay, null, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            await relay.DisposeAsync().ConfigureAwait(false);
            load.SetRate(0);
        }

        int httpPort = MosquittoProcess.FreePort();
        using var monitor = StartMonitor(settings, host, port, httpPort, Path.Combine(work, "monitor.log"));
        try
        {
            return baseline is null
                ? await SoakAsync(settings, output, load, running, monitor, host, port, httpPort, work, cancellationToken).ConfigureAwait(false)
                : await MeasureMonitorAsync(settings, output, load, running, monitor, baseline, host, port, httpPort, work, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!monitor.HasExited)
            {
                monitor.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<int> MeasureMonitorAsync(
        LiveBenchSettings settings, TextWriter output, LoadGenerator load, Task running, Process monitor, Measurement baseline, string host, int port, int httpPort, string work, CancellationToken cancellationToken)
    {
        var explanations = await LatencyObserver.StartAsync(host, port, "tsviz/v1/+/+/explanation", load, isExplanation: true, cancellationToken).ConfigureAwait(false);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        await WaitHealthy(http, monitor, cancellationToken).ConfigureAwait(false);

        output.WriteLine($"{"phase",-34} {"offered/s",10} {"ingested/s",11} {"windows/s",10} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8}");
        Print(output, "broker relay only (baseline)", baseline);
        load.SetRate(settings.Rate);
        await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false); // warm-up: JIT tiering, first batches
        double cpu0 = CpuSeconds(monitor.Id), self0 = CpuSeconds(Environment.ProcessId);
        var watch = Stopwatch.StartNew();
        var steady = await Measure(load, explanations, http, TimeSpan.FromSeconds(settings.SteadySeconds), cancellationToken).ConfigureAwait(false);
        double steadyCores = (CpuSeconds(monitor.Id) - cpu0) / watch.Elapsed.TotalSeconds, benchCores = (CpuSeconds(Environment.ProcessId) - self0) / watch.Elapsed.TotalSeconds;
        Print(output, "monitor, steady", steady);
        var (rss, peak, _, _) = Memory(monitor.Id);
        double stored = await Scrape(http, "tsviz_history_windows_total", cancellationToken).ConfigureAwait(false);
        long historyBytes = Directory.GetFiles(work, "history.db*").Sum(f => new FileInfo(f).Length);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"history at this point: {stored:N0} window records, {historyBytes / 1048576.0:N1} MiB on disk (database + WAL), {historyBytes / Math.Max(1, stored):N0} bytes/window"));
        var heap = await Scrape(http, "dotnet_total_memory_bytes", cancellationToken).ConfigureAwait(false);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"monitor memory at steady state: resident {rss / 1048576.0:N0} MiB (peak {peak / 1048576.0:N0} MiB), managed heap {heap / 1048576.0:N0} MiB"));

        if (settings.FloodClients > 0)
        {
            await MeasureFloodAsync(settings, output, load, explanations, http, monitor.Id, (steady, steadyCores, benchCores), cancellationToken).ConfigureAwait(false);
        }

        if (settings.CapacityStep > 0)
        {
            await MeasureCapacityAsync(settings, output, load, explanations, http, monitor.Id, cancellationToken).ConfigureAwait(false);
        }

        if (settings.Overload > 0)
        {
            load.SetRate((int)(settings.Rate * settings.Overload));
            var overload = await Measure(load, explanations, http, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            Print(output, string.Create(CultureInfo.InvariantCulture, $"overload, {settings.Overload:0.#}x offered"), overload);
            load.SetRate(settings.Rate);
            var recoveryWatch = Stopwatch.StartNew();
            Measurement recovery;
            do
            {
                recovery = await Measure(load, explanations, http, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            }
            while (recovery.P99 > 250 && recoveryWatch.Elapsed < TimeSpan.FromSeconds(60));
            Print(output, "after overload (last 2 s)", recovery);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"overload: queue depth peaked at {overload.MaxQueue:N0} windows; nothing dropped by the monitor (dropped samples {overload.Dropped:N0}); p99 back under 250 ms {recoveryWatch.Elapsed.TotalSeconds:N0} s after the overload ended"));
        }

        load.SetRate(0);
        await load.DisposeAsync().ConfigureAwait(false);
        await running.ConfigureAwait(false);
        await explanations.DisposeAsync().ConfigureAwait(false);
        if (load.PublishFailures > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gateway publishes not acknowledged by the broker in time (not counted as offered): {load.PublishFailures:N0}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"target: >= 20,000 samples/s ingested with every window explained, p99 < 250 ms: {(steady.Ingested >= 20_000 && steady.P99 < 250 ? "met" : "NOT met")} (monitor log: {work}/monitor.log)"));
        return 0;
    }

    /// <summary>
    /// The steady load again while clients flood /influence and /trace, then once more without them: the live path's
    /// latency during the flood beside the steady phases before and after it, and what the API answered.
    /// </summary>
    private static async Task MeasureFloodAsync(
        LiveBenchSettings settings, TextWriter output, LoadGenerator load, LatencyObserver explanations, HttpClient http, int monitor, (Measurement Latency, double Cores, double BenchCores) steady, CancellationToken cancellationToken)
    {
        var duration = TimeSpan.FromSeconds(settings.SteadySeconds);
        Measurement flooded;
        (long Answered, long Refused, long Failed, double[] Latencies) counts;
        int windows;
        double seconds, cores, interactiveCores, benchCores;
        await using (var flood = await InteractiveFlood.StartAsync(http.BaseAddress!, settings.FloodClients, cancellationToken).ConfigureAwait(false))
        {
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false); // the interactive explainer loaded, its queue full
            flood.Reset();
            double cpu0 = CpuSeconds(monitor), interactive0 = CpuSeconds(monitor, InteractiveThreads), self0 = CpuSeconds(Environment.ProcessId);
            var watch = Stopwatch.StartNew();
            flooded = await Measure(load, explanations, http, duration, cancellationToken).ConfigureAwait(false);
            counts = flood.Counts();
            windows = flood.Windows;
            seconds = watch.Elapsed.TotalSeconds;
            cores = (CpuSeconds(monitor) - cpu0) / seconds;
            interactiveCores = (CpuSeconds(monitor, InteractiveThreads) - interactive0) / seconds;
            benchCores = (CpuSeconds(Environment.ProcessId) - self0) / seconds;
        }

        Print(output, string.Create(CultureInfo.InvariantCulture, $"steady + API flood ({settings.FloodClients} clients)"), flooded);
        var after = await Measure(load, explanations, http, duration, cancellationToken).ConfigureAwait(false);
        Print(output, "steady again, flood over", after);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"API flood: {settings.FloodClients} clients, /influence and /trace on {windows} stored windows, 429 honoured (Retry-After): {counts.Answered:N0} answered 200 ({counts.Answered / seconds:N1}/s, p50 {Percentile(counts.Latencies, 0.50):N1} ms, p99 {Percentile(counts.Latencies, 0.99):N1} ms), {counts.Refused:N0} refused 429, {counts.Failed:N0} other"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU: monitor {steady.Cores:N2} cores steady, {cores:N2} during the flood, of which the interactive explainer threads (nice {new MonitorOptions().Interactive.Nice}) {interactiveCores:N2}; this bench process (gateways, subscriber, flood clients) {steady.BenchCores:N2} steady, {benchCores:N2} during the flood"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"live p99: steady {steady.Latency.P99:N1} ms before and {after.P99:N1} ms after the flood, {flooded.P99:N1} ms during it (target < 250 ms during the flood: {(flooded.P99 < 250 ? "met" : "NOT met")})"));
    }

    /// <summary>
    /// The sustained capacity: the offered rate goes up by <see cref="LiveBenchSettings.CapacityStep"/> every step (3 s to
    /// settle, 10 s measured) until a step falls behind. A step keeps up when the gateways offered what was asked (within
    /// 3 %), the monitor ingested what was offered and explained a window for every hop of it (within 3 %), and its
    /// window queue grew by at most one batch. Unlike an offer far above capacity, no backlog builds in the broker,
    /// whose persistence would then cost a share of the same cores. Then the steady rate again until the p99 recovers.
    /// </summary>
    private static async Task MeasureCapacityAsync(
        LiveBenchSettings settings, TextWriter output, LoadGenerator load, LatencyObserver explanations, HttpClient http, int monitor, CancellationToken cancellationToken)
    {
        const double Tolerance = 0.97;
        int maxBatch = new MonitorOptions().MaxBatch;
        (int Rate, Measurement Result, double Cores)? kept = null;
        for (int rate = settings.Rate + settings.CapacityStep; rate <= 200_000; rate += settings.CapacityStep)
        {
            load.SetRate(rate);
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
            double queue0 = await Scrape(http, "tsviz_queue_depth_windows", cancellationToken).ConfigureAwait(false);
            double cpu0 = CpuSeconds(monitor);
            var watch = Stopwatch.StartNew();
            var step = await Measure(load, explanations, http, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            double cores = (CpuSeconds(monitor) - cpu0) / watch.Elapsed.TotalSeconds;
            double queue1 = await Scrape(http, "tsviz_queue_depth_windows", cancellationToken).ConfigureAwait(false);
            bool keptUp = step.Offered >= Tolerance * rate && step.Ingested >= Tolerance * step.Offered
                && step.Windows >= Tolerance * step.Offered / settings.Hop && queue1 <= queue0 + maxBatch;
            Print(output, string.Create(CultureInfo.InvariantCulture, $"capacity step {rate:N0}/s: {(keptUp ? "kept up" : "behind")}"), step);
            if (!keptUp)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  behind at {rate:N0}/s: offered {step.Offered:N0}, ingested {step.Ingested:N0}, {step.Windows:N0} windows/s, window queue {queue0:N0} -> {queue1:N0}"));
                break;
            }

            kept = (rate, step, cores);
        }

        output.WriteLine(kept is { } k
            ? string.Create(CultureInfo.InvariantCulture,
                $"capacity: the monitor kept up with {k.Result.Offered:N0} samples/s offered, {k.Result.Windows:N0} windows/s explained (p99 {k.Result.P99:N1} ms, monitor {k.Cores:N2} cores); target >= 6,000 windows/s: {(k.Result.Windows >= 6_000 ? "met" : "NOT met")}")
            : string.Create(CultureInfo.InvariantCulture, $"capacity: the monitor fell behind at the first step ({settings.Rate + settings.CapacityStep:N0} samples/s)"));

        load.SetRate(settings.Rate);
        var recoveryWatch = Stopwatch.StartNew();
        Measurement recovery;
        do
        {
            recovery = await Measure(load, explanations, http, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        }
        while (recovery.P99 > 250 && recoveryWatch.Elapsed < TimeSpan.FromSeconds(60));
    }

    /// <summary>The interactive explainer's threads as Linux names them (thread names are cut to 15 characters).</summary>
    private const string InteractiveThreads = "tsviz-interact";

    /// <summary>CPU time (user + system, seconds) of a process, or of its threads whose name starts with <paramref name="thread"/>; 0 off Linux.</summary>
    private static double CpuSeconds(int pid, string? thread = null)
    {
        // /proc/.../stat: after "pid (name) ", utime and stime are the 12th and 13th fields, in 1/100 s on Linux.
        static double Read(string stat)
        {
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }

        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        if (thread is null)
        {
            return Read(File.ReadAllText($"/proc/{pid}/stat"));
        }

        double sum = 0;
        foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(thread, StringComparison.Ordinal))
                {
                    sum += Read(File.ReadAllText(Path.Combine(task, "stat")));
                }
            }
            catch (IOException)
            {
                // The thread ended.
            }
        }

        return sum;
    }

    private static void Print(TextWriter output, string phase, Measurement m)
        => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{phase,-34} {m.Offered,10:N0} {m.Ingested,11:N0} {m.Windows,10:N0} {m.P50,8:N1} {m.P95,8:N1} {m.P99,8:N1} {m.Max,8:N1}"));

    private sealed record Measurement(double Offered, double Ingested, double Windows, double P50, double P95, double P99, double Max, double MaxQueue, double Dropped);

    private static async Task<Measurement> Measure(LoadGenerator load, LatencyObserver observer, HttpClient? http, TimeSpan duration, CancellationToken cancellationToken)
    {
        long samples0 = load.SamplesAcknowledged;
        double received0 = http is null ? 0 : await Scrape(http, "tsviz_messages_received_total", cancellationToken).ConfigureAwait(false);
        double dropped0 = http is null ? 0 : await Scrape(http, "tsviz_samples_dropped_total", cancellationToken).ConfigureAwait(false);
        observer.Reset();
        var watch = Stopwatch.StartNew();
        double maxQueue = 0;
        while (watch.Elapsed < duration)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            if (http is not null)
            {
                maxQueue = Math.Max(maxQueue, await Scrape(http, "tsviz_queue_depth_windows", cancellationToken).ConfigureAwait(false));
            }
        }

        double seconds = watch.Elapsed.TotalSeconds;
        var latencies = observer.Latencies();
        double offered = (load.SamplesAcknowledged - samples0) / seconds;
        double ingested = http is null ? offered
            : (await Scrape(http, "tsviz_messages_received_total", cancellationToken).ConfigureAwait(false) - received0) * load.SamplesPerMessage / seconds;
        double dropped = http is null ? 0 : await Scrape(http, "tsviz_samples_dropped_total", cancellationToken).ConfigureAwait(false) - dropped0;
        return new Measurement(offered, ingested, latencies.Length / seconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99), latencies.Length == 0 ? double.NaN : latencies[^1], maxQueue, dropped);
    }

    private static double Percentile(double[] sorted, double p)
        => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>The sum of a metric's samples (all label sets) from the monitor's /metrics.</summary>
    private static async Task<double> Scrape(HttpClient http, string name, CancellationToken cancellationToken)
    {
        string text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length > name.Length && line[name.Length] is ' ' or '{'))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    /// <summary>A process's resident memory from /proc: total, peak, and the anonymous and file-backed parts of the total.</summary>
    private static (long Resident, long Peak, long Anonymous, long FileBacked) Memory(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (0, 0, 0, 0);
        }

        var status = File.ReadAllLines($"/proc/{pid}/status");
        long Read(string key) => status.Where(l => l.StartsWith(key, StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).FirstOrDefault();
        return (Read("VmRSS:"), Read("VmHWM:"), Read("RssAnon:"), Read("RssFile:"));
    }

    /// <summary>Starts the monitor as a child process; <paramref name="extra"/> adds or overrides its settings (keys as Monitor__Mqtt__Port).</summary>
    private static Process StartMonitor(LiveBenchSettings settings, string host, int port, int httpPort, string log, IReadOnlyDictionary<string, string>? extra = null)
    {
        string self = settings.MonitorExecutable ?? Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (settings.MonitorExecutable is null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(LiveBench).Assembly.Location);
        }

        start.ArgumentList.Add("run");
        var environment = new Dictionary<string, string>
        {
            ["Monitor__ModelPath"] = settings.ModelPath,
            ["Monitor__HttpUrl"] = $"http://127.0.0.1:{httpPort}",
            ["Monitor__Mqtt__EmbeddedBroker"] = "false",
            ["Monitor__Mqtt__Host"] = host,
            ["Monitor__Mqtt__Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["Monitor__Mqtt__ClientId"] = $"tsviz-bench-{httpPort}",
            ["Monitor__Mqtt__SessionExpirySeconds"] = "10", // a killed bench monitor must not leave a session collecting input
            ["Monitor__Mqtt__TopicPattern"] = "plant/{line}/{machine}/telemetry", // machine ids bench/b{m}
            ["Monitor__Hop"] = settings.Hop.ToString(CultureInfo.InvariantCulture),
            ["Monitor__MaxGapSeconds"] = "600",
            // The interactive flood measures the interactive explainer's own limit, not the per-identity rate limit.
            ["Monitor__Security__RateLimit__CostlyPerMinute"] = "100000",
            ["Monitor__History__Path"] = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(log)!, "history.db")),
            ["Monitor__Simulator__Enabled"] = "false",
            // The bench measures the live path; its machines reach Drift:MinReferenceWindows within seconds, and the one-off
            // building of 40 references (4-8 s of a core) would land in the steady phase, as the nightly jobs would if
            // they ran during it. The drift comparison's own cost is measured by bench --only drift.
            ["Monitor__Drift__BuildWhenReady"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        if (settings.Allocator is not null)
        {
            environment["Monitor__Health__NativeAllocator"] = settings.Allocator;
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment["TSVIZ_" + key] = value;
        }

        var process = Process.Start(start)!;
        var writer = new StreamWriter(log) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (writer) { writer.WriteLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (writer) { writer.WriteLine(e.Data); } } };
        process.Exited += (_, _) => writer.Dispose();
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitHealthy(HttpClient http, Process monitor, CancellationToken cancellationToken, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (monitor.HasExited)
            {
                throw new InvalidOperationException($"The monitor exited with code {monitor.ExitCode} (see its log under artifacts/bench-live).");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/health", UriKind.Relative), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"The monitor did not become healthy within {seconds} s."));
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    private static (string Host, int Port) ParseBroker(string text)
    {
        int colon = text.LastIndexOf(':');
        return colon > 0 && int.TryParse(text[(colon + 1)..], CultureInfo.InvariantCulture, out int port)
            ? (text[..colon], port)
            : throw new ArgumentException($"--broker must read host:port, got '{text}'");
    }

    /// <summary>
    /// Gateways: <see cref="Publishers"/> QoS 1 clients, each serving a share of the machines round-robin, paced to
    /// the current rate. Sample i of machine m has timestamp origin + i * <see cref="Step"/>, the origin 10 minutes in
    /// the past; the publish time of the message that holds each sample is kept for <see cref="SentRetention"/> so a
    /// window's explanation can be timed from its last sample. With anomalies, each machine's temperature jumps by
    /// <see cref="SpikeDegrees"/> on <see cref="SpikeSamples"/> consecutive samples at exponentially distributed
    /// intervals (a spike the shipped model scores at 0.99-1.0 wherever it lies in the window, on this load's
    /// signals; the same signals without it score below 0.03).
    /// </summary>
    private sealed class LoadGenerator(string host, int port, LiveBenchSettings settings) : IAsyncDisposable
    {
        public const double SpikeDegrees = 8;
        public const int SpikeSamples = 3;

        /// <summary>Two spikes of a machine at least this many samples apart, so the first one has left every window (50 samples) and its alert can close.</summary>
        private const int MinSpikeGap = 200;

        /// <summary>How far ahead of its time a gateway sends a message rather than sleep until then (its scan cycle, at most).</summary>
        private static readonly TimeSpan PacingInterval = TimeSpan.FromMilliseconds(5);

        /// <summary>QoS 1 publishes of one gateway awaiting their PUBACK at once (an MQTT client's in-flight window).</summary>
        private const int MaxInFlight = 16;

        /// <summary>Far beyond any latency the bench measures (seconds under overload), and it keeps the table bounded in a soak.</summary>
        private static readonly TimeSpan SentRetention = TimeSpan.FromMinutes(2);

        private readonly bool raw = settings.Harness == "raw";
        private readonly IMqttClient[] clients = settings.Harness == "raw" ? [] : Enumerable.Range(0, Publishers).Select(_ => new MqttClientFactory().CreateMqttClient()).ToArray();
        private readonly RawMqttClient?[] rawClients = new RawMqttClient?[Publishers];
        private readonly byte[][] topics = Enumerable.Range(0, settings.Machines).Select(m => Encoding.UTF8.GetBytes($"plant/bench/b{m}/telemetry")).ToArray();
        private readonly ConcurrentDictionary<(int Machine, long Message), long> sent = new();
        private readonly long[] nextSample = new long[settings.Machines];
        private readonly long[] nextSpike = new long[settings.Machines];
        private readonly DateTimeOffset origin = DateTimeOffset.UtcNow.AddMinutes(-10);
        private readonly CancellationTokenSource stop = new();
        private readonly MqttClientOptions[] options = new MqttClientOptions[Publishers];
        private long acknowledged;
        private long failures;
        private int rate;

        public int SamplesPerMessage => settings.SamplesPerMessage;

        public string Harness => settings.Harness;

        /// <summary>
        /// The data clock's step per sample of a machine: 2 ms in the normal run (a short one, where starting 10 minutes
        /// behind keeps even the overload phase in the past); in a soak one sample interval of a machine at the offered
        /// rate, rounded up to whole milliseconds (the payload's resolution), so the data clock never runs faster than
        /// real time and stays about 10 minutes behind it for as long as the soak lasts, far from the monitor's
        /// future_timestamp limit.
        /// </summary>
        public TimeSpan Step { get; } = settings.SoakMinutes > 0
            ? TimeSpan.FromMilliseconds(Math.Ceiling(1000.0 * settings.Machines / settings.Rate))
            : TimeSpan.FromMilliseconds(2);

        /// <summary>Publish times kept for timing explanations (pruned to the last <see cref="SentRetention"/>).</summary>
        public int SentEntries => sent.Count;

        public long SamplesAcknowledged => Interlocked.Read(ref acknowledged);

        /// <summary>Gateway publishes the broker did not acknowledge in time.</summary>
        public long PublishFailures => Interlocked.Read(ref failures);

        public void SetRate(int samplesPerSecond) => Volatile.Write(ref rate, samplesPerSecond);

        public async Task ConnectAsync(CancellationToken cancellationToken)
        {
            for (int p = 0; p < Publishers; p++)
            {
                if (raw)
                {
                    rawClients[p] = await ConnectRawAsync(p, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                options[p] = new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId($"bench-gateway-{p}-{Environment.ProcessId}").WithCleanStart(true).Build().WithSocketBuffers();
                await clients[p].ConnectAsync(options[p], cancellationToken).ConfigureAwait(false);
            }
        }

        private Task<RawMqttClient> ConnectRawAsync(int publisher, CancellationToken cancellationToken)
            => RawMqttClient.ConnectAsync(host, port, $"bench-gateway-{publisher}-{Environment.ProcessId}", MaxInFlight,
                () => Interlocked.Add(ref acknowledged, settings.SamplesPerMessage), handler: null, cancellationToken);

        public Task RunAsync(CancellationToken cancellationToken)
        {
            var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stop.Token);
            // The lean client's gateways run on threads of their own, blocking between scans: no timer or thread-pool
            // hand-off per message on the cores the monitor shares.
            return Task.WhenAll(Enumerable.Range(0, Publishers).Select(p => raw
                    ? Task.Factory.StartNew(() => PublishLoopAsync(p, linked.Token).GetAwaiter().GetResult(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                    : Task.Run(() => PublishLoopAsync(p, linked.Token), CancellationToken.None))
                .Append(Task.Run(() => PruneLoopAsync(linked.Token), CancellationToken.None)));
        }

        /// <summary>When the message holding <paramref name="sampleTime"/> of machine <paramref name="machine"/> was published.</summary>
        public bool TryGetSent(string machine, DateTimeOffset sampleTime, out long timestamp)
        {
            timestamp = 0;
            // Machine ids are bench/b{m} (plant/{line}/{machine}/telemetry).
            var name = machine.AsSpan(machine.LastIndexOf('/') + 1);
            if (name.Length < 2 || name[0] != 'b' || !int.TryParse(name[1..], CultureInfo.InvariantCulture, out int m))
            {
                return false;
            }

            long sample = (sampleTime - origin).Ticks / Step.Ticks;
            return sent.TryGetValue((m, sample / settings.SamplesPerMessage), out timestamp);
        }

        /// <summary>Forgets publish times older than <see cref="SentRetention"/>, so a long run does not grow the table without bound.</summary>
        private async Task PruneLoopAsync(CancellationToken cancellationToken)
        {
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                    long oldest = Stopwatch.GetTimestamp() - (long)(SentRetention.TotalSeconds * Stopwatch.Frequency);
                    foreach (var entry in sent)
                    {
                        if (entry.Value < oldest)
                        {
                            sent.TryRemove(entry);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped.
            }
        }

        /// <summary>Samples until a machine's next spike: exponential with the configured mean at the steady rate, at least <see cref="MinSpikeGap"/>.</summary>
        private long SpikeGap(Random random)
        {
            double meanSamples = settings.AnomalyEverySeconds * settings.Rate / settings.Machines;
            return Math.Max(MinSpikeGap, (long)(-meanSamples * Math.Log(1 - random.NextDouble())));
        }

        private async Task PublishLoopAsync(int publisher, CancellationToken cancellationToken)
        {
            var machines = Enumerable.Range(0, settings.Machines).Where(m => m % Publishers == publisher).ToArray();
            bool anomalies = settings.AnomalyEverySeconds > 0;
            var random = new Random(20_261_203 + publisher); // each publisher alone draws its own machines' spikes
            foreach (int machine in machines)
            {
                nextSpike[machine] = anomalies ? SpikeGap(random) : 0;
            }

            var payload = new byte[256 * settings.SamplesPerMessage];
            var inFlight = new Queue<Task>();
            long due = Stopwatch.GetTimestamp();
            int next = 0;
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    int current = Volatile.Read(ref rate);
                    if (current <= 0)
                    {
                        await Pause(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
                        due = Stopwatch.GetTimestamp();
                        continue;
                    }

                    long now = Stopwatch.GetTimestamp();
                    if (due > now)
                    {
                        // A gateway's scan: every message due within the next PacingInterval goes out now, then it sleeps
                        // until the next one is due. A wake-up per message (about one a millisecond per gateway) cost the
                        // bench a timer, a thread switch or two and their system calls per window on the shared cores.
                        long ahead = due - now;
                        if (ahead > PacingInterval.TotalSeconds * Stopwatch.Frequency)
                        {
                            await Pause(TimeSpan.FromTicks(ahead * TimeSpan.TicksPerSecond / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
                        }
                    }

                    int m = machines[next];
                    next = (next + 1) % machines.Length;
                    long first = nextSample[m];
                    nextSample[m] += settings.SamplesPerMessage;
                    int length = Payload(payload, m, first, anomalies, random);
                    sent[(m, first / settings.SamplesPerMessage)] = Stopwatch.GetTimestamp();
                    if (raw)
                    {
                        // The lean client keeps up to MaxInFlight publishes awaiting their PUBACK itself.
                        var client = rawClients[publisher]!;
                        if (!client.IsConnected || !client.Publish(topics[m], payload.AsSpan(0, length), cancellationToken))
                        {
                            // The publishes lost with the connection are not offered; this message goes out on the new
                            // one, as on MQTTnet's, so the machine's samples have no gap.
                            Interlocked.Add(ref failures, client.Unacknowledged);
                            client.Dispose();
                            client = rawClients[publisher] = ConnectRawAsync(publisher, cancellationToken).GetAwaiter().GetResult();
                            client.Publish(topics[m], payload.AsSpan(0, length), cancellationToken);
                        }
                    }
                    else
                    {
                        var message = new MqttApplicationMessageBuilder().WithTopic($"plant/bench/b{m}/telemetry")
                            .WithPayload(payload.AsSpan(0, length).ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
                        if (!clients[publisher].IsConnected)
                        {
                            while (inFlight.TryDequeue(out var pending))
                            {
                                await pending.ConfigureAwait(false);
                            }

                            await clients[publisher].ConnectAsync(options[publisher], cancellationToken).ConfigureAwait(false);
                        }

                        // Pipelined like a plant gateway's QoS 1 window: up to MaxInFlight publishes await their PUBACK at once,
                        // so the offered rate is not capped at one broker round trip per message and publisher.
                        inFlight.Enqueue(PublishOneAsync(clients[publisher], message, cancellationToken));
                        while (inFlight.Count >= MaxInFlight)
                        {
                            await inFlight.Dequeue().ConfigureAwait(false);
                        }
                    }

                    double perPublisher = current / (double)settings.SamplesPerMessage / Publishers;
                    due += (long)(Stopwatch.Frequency / perPublisher);
                    if (Stopwatch.GetTimestamp() - due > Stopwatch.Frequency)
                    {
                        due = Stopwatch.GetTimestamp(); // more than a second behind: the offered rate is what the broker takes
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped.
            }
        }

        /// <summary>
        /// Writes the JSON message of machine <paramref name="m"/>'s samples from <paramref name="first"/> into
        /// <paramref name="payload"/> (UTF-8, no intermediate strings) and returns its length:
        /// {"samples":[{"ts":"...","pressure":..,"temperature":..,"torque":..},...]}, values with 4 decimals.
        /// </summary>
        private int Payload(byte[] payload, int m, long first, bool anomalies, Random random)
        {
            var span = payload.AsSpan();
            "{\"samples\":["u8.CopyTo(span);
            int at = "{\"samples\":["u8.Length;
            for (int k = 0; k < settings.SamplesPerMessage; k++)
            {
                long i = first + k;
                if (anomalies && i >= nextSpike[m] + SpikeSamples)
                {
                    nextSpike[m] = i + SpikeGap(random);
                }

                double spike = anomalies && i >= nextSpike[m] ? SpikeDegrees : 0;
                var ts = (origin + (Step * i)).UtcDateTime;
                if (!System.Text.Unicode.Utf8.TryWrite(span[at..], CultureInfo.InvariantCulture,
                    $"{(k == 0 ? "" : ",")}{{\"ts\":\"{ts:yyyy-MM-ddTHH:mm:ss.fffZ}\",\"pressure\":{5 + (0.05 * Math.Sin(i / 7.0)):F4},\"temperature\":{60 + (0.2 * Math.Cos(i / 11.0)) + spike:F4},\"torque\":{12 + (0.1 * Math.Sin((i + m) / 5.0)):F4}}}", out int written))
                {
                    throw new InvalidOperationException("A bench sample did not fit its payload buffer.");
                }

                at += written;
            }

            "]}"u8.CopyTo(span[at..]);
            return at + 2;
        }

        /// <summary>The gateway's sleep: blocking on its own thread with the lean client, a timer otherwise.</summary>
        private Task Pause(TimeSpan time, CancellationToken cancellationToken)
        {
            if (!raw)
            {
                return Task.Delay(time, cancellationToken);
            }

            cancellationToken.WaitHandle.WaitOne(time);
            cancellationToken.ThrowIfCancellationRequested();
            return Task.CompletedTask;
        }

        /// <summary>One QoS 1 publish; a sample the broker did not acknowledge in time is not counted as offered.</summary>
        private async Task PublishOneAsync(IMqttClient client, MqttApplicationMessage message, CancellationToken cancellationToken)
        {
            try
            {
                await client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref acknowledged, settings.SamplesPerMessage);
            }
            catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException)
            {
                // The broker did not acknowledge in time (it is the one holding an overload backlog); the loop reconnects.
                Interlocked.Increment(ref failures);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var client in clients)
            {
                client.Dispose();
            }

            foreach (var client in rawClients)
            {
                client?.Dispose();
            }

            stop.Dispose();
        }
    }

    /// <summary>A subscriber that records, per message, the time since the message holding its last sample was published.</summary>
    private sealed class LatencyObserver : IAsyncDisposable
    {
        private readonly IMqttClient? client;
        private readonly ConcurrentBag<double> latencies = [];
        private RawMqttClient? rawClient;

        private LatencyObserver(bool raw)
        {
            client = raw ? null : new MqttClientFactory().CreateMqttClient();
        }

        public static async Task<LatencyObserver> StartAsync(string host, int port, string filter, LoadGenerator load, bool isExplanation, CancellationToken cancellationToken)
        {
            var observer = new LatencyObserver(load.Harness == "raw");
            string clientId = $"bench-observer-{Environment.ProcessId}-{filter.Length}";
            if (observer.client is null)
            {
                observer.rawClient = await RawMqttClient.ConnectAsync(host, port, clientId, maxInFlight: 1, acknowledged: null, (topic, payload) =>
                {
                    long now = Stopwatch.GetTimestamp();
                    var (machine, end) = isExplanation ? ReadExplanation(payload) : ReadInput(Encoding.UTF8.GetString(topic), payload);
                    observer.Record(load, machine, end, now);
                }, cancellationToken).ConfigureAwait(false);
                await observer.rawClient.SubscribeAsync(filter, cancellationToken).ConfigureAwait(false);
                return observer;
            }

            observer.client.ApplicationMessageReceivedAsync += e =>
            {
                long now = Stopwatch.GetTimestamp();
                var payload = e.ApplicationMessage.Payload;
                var bytes = payload.IsSingleSegment ? payload.FirstSpan : System.Buffers.BuffersExtensions.ToArray(payload);
                var (machine, end) = isExplanation ? ReadExplanation(bytes) : ReadInput(e.ApplicationMessage.Topic, bytes);
                observer.Record(load, machine, end, now);
                return Task.CompletedTask;
            };
            var options = new MqttClientOptionsBuilder().WithTcpServer(host, port).WithClientId(clientId).WithCleanStart(true).Build().WithSocketBuffers();
            await observer.client.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            await observer.client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken).ConfigureAwait(false);
            return observer;
        }

        private void Record(LoadGenerator load, string? machine, DateTimeOffset end, long now)
        {
            if (machine is not null && load.TryGetSent(machine, end, out long sentAt))
            {
                latencies.Add((now - sentAt) * 1000.0 / Stopwatch.Frequency);
            }
        }

        public void Reset() => latencies.Clear();

        public double[] Latencies()
        {
            if (rawClient is { IsConnected: false } lost)
            {
                throw new InvalidOperationException(
                    $"The latency observer lost its connection to the broker{(lost.Failure is { } failure ? $": {failure.Message}" : string.Empty)}; its latencies would be incomplete.");
            }

            var values = latencies.ToArray();
            Array.Sort(values);
            return values;
        }

        private static (string? Machine, DateTimeOffset End) ReadExplanation(ReadOnlySpan<byte> payload)
        {
            var reader = new Utf8JsonReader(payload);
            string? machine = null;
            DateTimeOffset? end = null;
            while (reader.Read() && (machine is null || end is null))
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    if (reader.ValueTextEquals("machine"u8) && reader.Read())
                    {
                        machine = reader.GetString();
                    }
                    else if (reader.ValueTextEquals("windowEnd"u8) && reader.Read())
                    {
                        end = reader.GetDateTimeOffset();
                    }
                }
            }

            return end is null ? (null, default) : (machine, end.Value);
        }

        private static (string? Machine, DateTimeOffset End) ReadInput(string topic, ReadOnlySpan<byte> payload)
        {
            // plant/bench/b{m}/telemetry is machine bench/b{m}; the first sample's time identifies the message.
            string machine = topic["plant/".Length..topic.LastIndexOf('/')];
            var reader = new Utf8JsonReader(payload);
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("ts"u8) && reader.Read())
                {
                    return (machine, reader.GetDateTimeOffset());
                }
            }

            return (null, default);
        }

        public async ValueTask DisposeAsync()
        {
            rawClient?.Dispose();
            if (client is not null)
            {
                if (client.IsConnected)
                {
                    await client.DisconnectAsync().ConfigureAwait(false);
                }

                client.Dispose();
            }
        }
    }
}
