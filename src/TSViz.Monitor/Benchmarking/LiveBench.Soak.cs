using System.Diagnostics;
using System.Globalization;

namespace TSViz.Monitor.Benchmarking;

/// <summary>
/// `bench --live --soak-minutes N`: the steady rate with anomalies (so alerts open and close) for N minutes, one line
/// a minute of the monitor's memory, throughput, latency, alerts and history size, then whether memory stayed flat.
/// </summary>
internal static partial class LiveBench
{
    /// <summary>Memory is read this often; a minute's figure is the mean of its readings, which smooths the GC's saw-tooth.</summary>
    private static readonly TimeSpan SoakReading = TimeSpan.FromSeconds(5);

    /// <summary>A second-half slope below this, for resident memory and the managed heap alike, reads as flat (12 MiB an hour).</summary>
    private const double FlatMiBPerMinute = 0.2;

    /// <summary>Minutes of the second half a verdict needs.</summary>
    private const int MinJudgedMinutes = 10;

    private const double MiB = 1024 * 1024;

    private sealed record SoakMinute(int Minute, double ResidentMiB, double HeapMiB, double WindowsPerSecond, double P99, double AlertsOpened, double HistoryMiB, double Rejected, double BenchResidentMiB, double AnonMiB, double FileMiB, double NativeInUseMiB, double NativeFreeMiB);

    private static void ValidateSoak(LiveBenchSettings settings)
    {
        if (settings.SoakMinutes < 0 || settings.AnomalyEverySeconds < 0)
        {
            throw new ArgumentException($"--soak-minutes ({settings.SoakMinutes}) and --anomaly-every-seconds ({settings.AnomalyEverySeconds}) must not be negative");
        }

        // Timestamps have millisecond resolution: above 1,000 samples/s per machine the data clock would outrun real time.
        if (settings.SoakMinutes > 0 && (settings.Machines < 1 || settings.Rate < 1 || settings.Rate > 1_000L * settings.Machines))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"a soak needs --machines >= 1 and --rate in 1..{1_000L * Math.Max(1, settings.Machines):N0} (at most 1,000 samples/s per machine), got --machines {settings.Machines} --rate {settings.Rate}"));
        }
    }

    private static void PrintSoakLoad(TextWriter output, LiveBenchSettings settings, LoadGenerator load)
        => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"soak: {settings.SoakMinutes} minutes at {settings.Rate:N0} samples/s; {(settings.AnomalyEverySeconds > 0 ? $"each machine's temperature jumps by {LoadGenerator.SpikeDegrees:0} degC on {LoadGenerator.SpikeSamples} consecutive samples every {settings.AnomalyEverySeconds:0.#} s on average (exponential intervals)" : "no anomalies")}; data clock {load.Step.TotalMilliseconds:0} ms per sample of a machine (no faster than real time, starting 10 minutes behind it)"));

    private static async Task<int> SoakAsync(
        LiveBenchSettings settings, TextWriter output, LoadGenerator load, Task running, Process monitor, string host, int port, int httpPort, string work, CancellationToken cancellationToken)
    {
        var explanations = await LatencyObserver.StartAsync(host, port, "tsviz/v1/+/+/explanation", load, isExplanation: true, cancellationToken).ConfigureAwait(false);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        await WaitHealthy(http, monitor, cancellationToken).ConfigureAwait(false);
        string metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        string allocator = metrics.Split('\n').Where(l => l.StartsWith("tsviz_native_allocator_info{", StringComparison.Ordinal))
            .Select(l => l.Split('"')[1]).FirstOrDefault() ?? "unknown";
        output.WriteLine($"monitor's C allocator: {allocator} (tsviz_native_allocator_info; --allocator, Monitor:Health:NativeAllocator)");
        string csvPath = Path.Combine(work, "soak.csv");
        await using var csv = new StreamWriter(csvPath) { AutoFlush = true }; // a run stopped early keeps its curve
        await csv.WriteLineAsync("minute,resident_mib,managed_heap_mib,windows_per_s,p99_ms,alerts_opened,history_mib,messages_rejected,bench_resident_mib,resident_anon_mib,resident_file_mib,native_in_use_mib,native_free_mib".AsMemory(), cancellationToken).ConfigureAwait(false);
        output.WriteLine($"memory: mean of the minute's readings every {SoakReading.TotalSeconds:0} s (RSS = anonymous + file-backed; native = the C allocator's in-use and kept-free bytes, tsviz_native_heap_bytes); windows/s: tsviz_windows_scored_total; p99: explanations published in the minute; history: database + WAL");
        output.WriteLine($"{"minute",6} {"RSS MiB",8} {"anon",6} {"file",5} {"heap MiB",9} {"native use",11} {"free",6} {"windows/s",10} {"p99 ms",8} {"alerts opened",14} {"history MiB",12} {"bench RSS MiB",14}");

        double windowsBefore = await Scrape(http, "tsviz_windows_scored_total", cancellationToken).ConfigureAwait(false);
        double rejectedBefore = await Scrape(http, "tsviz_messages_rejected_total", cancellationToken).ConfigureAwait(false);
        double rejectedAtStart = rejectedBefore;
        load.SetRate(settings.Rate);
        explanations.Reset();
        long start = Stopwatch.GetTimestamp();
        var rows = new List<SoakMinute>();
        for (int minute = 1; minute <= settings.SoakMinutes; minute++)
        {
            var resident = new List<double>();
            var heap = new List<double>();
            var anon = new List<double>();
            var file = new List<double>();
            var nativeInUse = new List<double>();
            var nativeFree = new List<double>();
            for (var at = SoakReading; at <= TimeSpan.FromMinutes(1); at += SoakReading)
            {
                var wait = TimeSpan.FromMinutes(minute - 1) + at - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }

                if (monitor.HasExited)
                {
                    throw new InvalidOperationException($"The monitor exited with code {monitor.ExitCode} in minute {minute} of the soak (see {work}/monitor.log; the curve so far is in {csvPath}).");
                }

                var memory = Memory(monitor.Id);
                resident.Add(memory.Resident / MiB);
                anon.Add(memory.Anonymous / MiB);
                file.Add(memory.FileBacked / MiB);
                heap.Add(await Scrape(http, "dotnet_total_memory_bytes", cancellationToken).ConfigureAwait(false) / MiB);
                nativeInUse.Add(await Scrape(http, "tsviz_native_heap_bytes{state=\"in_use\"}", cancellationToken).ConfigureAwait(false) / MiB);
                nativeFree.Add(await Scrape(http, "tsviz_native_heap_bytes{state=\"free\"}", cancellationToken).ConfigureAwait(false) / MiB);
            }

            var latencies = explanations.Latencies();
            explanations.Reset();
            double windows = await Scrape(http, "tsviz_windows_scored_total", cancellationToken).ConfigureAwait(false);
            double rejected = await Scrape(http, "tsviz_messages_rejected_total", cancellationToken).ConfigureAwait(false);
            var row = new SoakMinute(minute, resident.Average(), heap.Average(), (windows - windowsBefore) / 60, Percentile(latencies, 0.99),
                await Scrape(http, "tsviz_alerts_opened_total", cancellationToken).ConfigureAwait(false),
                Directory.GetFiles(work, "history.db*").Sum(f => new FileInfo(f).Length) / MiB,
                rejected - rejectedAtStart, Memory(Environment.ProcessId).Resident / MiB,
                anon.Average(), file.Average(), nativeInUse.Average(), nativeFree.Average());
            windowsBefore = windows;
            rows.Add(row);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Minute,6} {row.ResidentMiB,8:N0} {row.AnonMiB,6:N0} {row.FileMiB,5:N0} {row.HeapMiB,9:N1} {row.NativeInUseMiB,11:N0} {row.NativeFreeMiB,6:N0} {row.WindowsPerSecond,10:N0} {row.P99,8:N1} {row.AlertsOpened,14:N0} {row.HistoryMiB,12:N1} {row.BenchResidentMiB,14:N0}"));
            await csv.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{row.Minute},{row.ResidentMiB:F1},{row.HeapMiB:F1},{row.WindowsPerSecond:F0},{row.P99:F1},{row.AlertsOpened:F0},{row.HistoryMiB:F1},{row.Rejected:F0},{row.BenchResidentMiB:F1},{row.AnonMiB:F1},{row.FileMiB:F1},{row.NativeInUseMiB:F1},{row.NativeFreeMiB:F1}").AsMemory(), cancellationToken).ConfigureAwait(false);
            if (rejected > rejectedBefore)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"warning: the monitor rejected {rejected - rejectedBefore:N0} input messages in minute {minute} (tsviz_messages_rejected_total; reasons in {work}/monitor.log and on the dead-letter topic)"));
            }

            rejectedBefore = rejected;
        }

        load.SetRate(0);
        int held = load.SentEntries;
        await load.DisposeAsync().ConfigureAwait(false);
        await running.ConfigureAwait(false);
        await explanations.DisposeAsync().ConfigureAwait(false);
        PrintSoakVerdict(output, settings, rows, held, load.PublishFailures, work);
        return 0;
    }

    private static void PrintSoakVerdict(TextWriter output, LiveBenchSettings settings, List<SoakMinute> rows, int held, long publishFailures, string work)
    {
        // After warm-up: minute 5, or the middle of a short run.
        int warm = Math.Min(5, Math.Max(1, settings.SoakMinutes / 2));
        var warmRow = rows[warm - 1];
        var last = rows[^1];
        var secondHalf = rows.Where(r => r.Minute > settings.SoakMinutes / 2.0).ToList();
        double residentSlope = Slope(secondHalf, r => r.ResidentMiB);
        double heapSlope = Slope(secondHalf, r => r.HeapMiB);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"resident after warm-up (minute {warm}): {warmRow.ResidentMiB:N0} MiB; at the end (minute {last.Minute}): {last.ResidentMiB:N0} MiB ({last.ResidentMiB - warmRow.ResidentMiB:+0;-0;0} MiB); managed heap {warmRow.HeapMiB:N1} -> {last.HeapMiB:N1} MiB"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"second half (minutes {secondHalf[0].Minute}-{last.Minute}), least-squares slope: resident {residentSlope:+0.000;-0.000;0.000} MiB/min, managed heap {heapSlope:+0.000;-0.000;0.000} MiB/min"));
        var growing = new List<string>();
        if (residentSlope >= FlatMiBPerMinute)
        {
            growing.Add("resident");
        }

        if (heapSlope >= FlatMiBPerMinute)
        {
            growing.Add("managed heap");
        }

        // Over a few minutes the start-up and the GC's saw-tooth outweigh any leak: a verdict needs a long enough second half.
        string verdict = secondHalf.Count < MinJudgedMinutes
            ? string.Create(CultureInfo.InvariantCulture, $"not judged (only {secondHalf.Count} minutes in the second half; run {2 * MinJudgedMinutes} minutes or more)")
            : growing.Count == 0 ? "flat" : $"GROWING ({string.Join(" and ", growing)})";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"verdict: {verdict} (criterion: the second-half slopes of resident memory and of the managed heap both below {FlatMiBPerMinute} MiB/min, i.e. under {FlatMiBPerMinute * 60:0} MiB an hour)"));
        if (last.AlertsOpened == 0)
        {
            output.WriteLine("warning: no alert opened; the soak did not exercise the alert path (--anomaly-every-seconds 0, or the model no longer flags the spike)");
        }

        if (last.Rejected > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warning: the monitor rejected {last.Rejected:N0} input messages during the soak (tsviz_messages_rejected_total)"));
        }

        if (publishFailures > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gateway publishes not acknowledged by the broker in time: {publishFailures:N0}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench process: resident {rows[0].BenchResidentMiB:N0} MiB in minute 1, {last.BenchResidentMiB:N0} MiB at the end; {held:N0} publish times held for timing (the last 2 minutes). Curve: {work}/soak.csv, monitor log: {work}/monitor.log"));
    }

    /// <summary>Least-squares slope of <paramref name="value"/> over the minute, in units per minute; NaN below two points.</summary>
    private static double Slope(List<SoakMinute> rows, Func<SoakMinute, double> value)
    {
        if (rows.Count < 2)
        {
            return double.NaN;
        }

        double meanX = rows.Average(r => r.Minute);
        double meanY = rows.Average(value);
        double covariance = rows.Sum(r => (r.Minute - meanX) * (value(r) - meanY));
        double variance = rows.Sum(r => (r.Minute - meanX) * (r.Minute - meanX));
        return covariance / variance;
    }
}
