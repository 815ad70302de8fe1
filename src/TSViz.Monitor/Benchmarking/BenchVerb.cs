using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using TSViz.Explain;
using TSViz.Explain.Attribution;
using TSViz.Explain.Counterfactuals;
using TSViz.Explain.Data;
using TSViz.Explain.Runtime;
using TSViz.Monitor.Cli;
using TSViz.Plugins.Scoring;

namespace TSViz.Monitor.Benchmarking;

/// <summary>
/// `bench`: windows per second of scoring and of every explanation, measured side by side in one run on the same
/// windows, with the reference implementation's way (one backward pass per window and filter) as the baseline
/// for per-filter saliency. Each figure is the median of several timed rounds after a warm-up.
/// </summary>
internal static class BenchVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The model to measure.", DefaultValueFactory = _ => "models/anomaly-cnn.onnx" };
        var batch = new Option<int>("--batch") { Description = "Windows per call.", DefaultValueFactory = _ => 256 };
        var seconds = new Option<double>("--seconds") { Description = "Minimum time per round.", DefaultValueFactory = _ => 2.0 };
        var rounds = new Option<int>("--rounds") { Description = "Timed rounds per method (the median is printed).", DefaultValueFactory = _ => 3 };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads (default: one per core)." };
        var only = new Option<string?>("--only") { Description = "Measure only the methods whose name contains this text." };
        var live = new Option<bool>("--live") { Description = "Measure the whole live path through Mosquitto instead: ingest rate, explanation latency, memory, overload." };
        var rate = new Option<int?>("--rate") { Description = "--live: samples/s offered in the steady phase (default 20,000; 10,000 in a soak)." };
        var machines = new Option<int>("--machines") { Description = "--live: simulated machines.", DefaultValueFactory = _ => 40 };
        var perMessage = new Option<int>("--samples-per-message") { Description = "--live: samples per MQTT message (batched payloads).", DefaultValueFactory = _ => 10 };
        var steady = new Option<double>("--steady-seconds") { Description = "--live: length of the measured steady phase.", DefaultValueFactory = _ => 20 };
        var overload = new Option<double>("--overload") { Description = "--live: offered rate of the overload phase as a multiple of --rate (0: skip).", DefaultValueFactory = _ => 3 };
        var capacity = new Option<int>("--capacity-step") { Description = "--live: after the steady phase, raise the offered samples/s by this much a step (10 s each) until the monitor falls behind, and print the highest rate it kept up with (0: skip).", DefaultValueFactory = _ => 0 };
        var flood = new Option<int>("--flood-clients") { Description = "--live: clients flooding the explorer API (/influence, /trace) in a phase after the steady one (0: skip).", DefaultValueFactory = _ => 8 };
        var broker = new Option<string?>("--broker") { Description = "--live: host:port of a running broker (default: start Mosquitto with config/mosquitto/plant.conf)." };
        var soak = new Option<int>("--soak-minutes") { Description = "--live: instead of the phases, run the steady rate with anomalies for this many minutes and print the monitor's memory curve, one line a minute." };
        var anomalyEvery = new Option<double?>("--anomaly-every-seconds") { Description = "--live: mean seconds between two temperature spikes of one machine (default 30 in a soak, none otherwise; 0: none)." };
        var allocator = new Option<string?>("--allocator") { Description = "--live: the monitor's C allocator (auto, jemalloc, glibc; default: its configuration's), to measure one against the other." };
        var nodes = new Option<string[]>("--nodes") { Description = "--live: compare the standalone monitor with cluster mode on these node counts in one run (comma-separated or repeated, each 1..8, e.g. --nodes 1,2,3); starts a temporary PostgreSQL 15." };
        var harness = new Option<string>("--harness") { Description = "--live: the MQTT clients of the bench's own gateways and latency observer: raw (a lean client on a socket) or mqttnet (MQTTnet's client, the harness of the figures before 2026-12-05). Same messages, same QoS 1.", DefaultValueFactory = _ => "raw" };
        var monitorExecutable = new Option<string?>("--monitor") { Description = "--live: the monitor executable to measure (default: this one), e.g. another build's, to compare two builds under the same harness." };
        var postgres = new Option<bool>("--postgres") { Description = "--only history: measure the history on a temporary PostgreSQL 15 too, beside SQLite, and the cluster's staged-input COPY." };
        var command = new Command("bench", "Measure scoring and explanation throughput (windows/s) on the shipped model, with baselines in the same run; --live measures the live path through Mosquitto.")
        {
            model, batch, seconds, rounds, threads, only, live, rate, machines, perMessage, steady, overload, capacity, flood, broker, soak, anomalyEvery, allocator, nodes, postgres, harness, monitorExecutable,
        };
        command.SetAction((parse, cancellationToken) => parse.GetValue(live)
            ? VerbErrors.RunAsync(error, () => LiveBench.RunAsync(new LiveBenchSettings
            {
                Nodes = LiveBench.ParseNodes(parse.GetValue(nodes) ?? []),
                ModelPath = parse.GetValue(model)!,
                Rate = parse.GetValue(rate) ?? (parse.GetValue(soak) > 0 ? 10_000 : 20_000),
                Machines = parse.GetValue(machines),
                SamplesPerMessage = parse.GetValue(perMessage),
                SteadySeconds = parse.GetValue(steady),
                Overload = parse.GetValue(overload),
                CapacityStep = parse.GetValue(capacity),
                FloodClients = parse.GetValue(flood),
                Broker = parse.GetValue(broker),
                SoakMinutes = parse.GetValue(soak),
                AnomalyEverySeconds = parse.GetValue(anomalyEvery) ?? (parse.GetValue(soak) > 0 ? 30 : 0),
                Allocator = parse.GetValue(allocator),
                Harness = parse.GetValue(harness)!,
                MonitorExecutable = parse.GetValue(monitorExecutable) is { } exe ? Path.GetFullPath(exe) : null,
            }, output, cancellationToken))
            : VerbErrors.Run(error, () =>
        {
            if (parse.GetValue(nodes) is { Length: > 0 })
            {
                throw new ArgumentException("--nodes needs --live (bench --live --nodes 1,2,3)");
            }

            TorchRuntime.EnsureInitialized(parse.GetValue(threads));
            string path = parse.GetValue(model)!;
            int size = Math.Max(1, parse.GetValue(batch));
            var timing = new Timing(parse.GetValue(seconds), Math.Max(1, parse.GetValue(rounds)), parse.GetValue(only), cancellationToken);
            using var explainer = Explainer.Load(path);
            // The general TorchSharp path, the baseline of every compiled kernel (and its reference in the tests).
            using var general = Explainer.Load(path, kernels: ExplainerKernels.TorchSharp);
            var scorer = new Lazy<OnnxRuntimeScorer>(() => OnnxRuntimeScorer.Open(path));
            int channels = explainer.Metadata.Channels.Count;
            int length = explainer.Metadata.WindowLength;
            var windows = Windows(size, channels, length);
            var preprocessed = (float[])windows.Clone();
            WindowPreprocessing.Apply(explainer.Metadata.Preprocessing, preprocessed, channels, length);
            var scores = new float[size];
            const int loopWindows = 2;
            bool compiled = explainer.Kernels == ExplainerKernels.Auto;
            string kernels = compiled ? "compiled CPU kernels" : $"TorchSharp only ({explainer.KernelsReason})";

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"TSViz bench: {path}, {explainer.Graph.TotalFilters} conv filters, batch {size}, {Environment.ProcessorCount} cores, libtorch intra-op threads {torch.get_num_threads()}, explainer workers {explainer.Parallelism}, ONNX Runtime intra-op threads 1, kernels: {kernels}"));
            output.WriteLine($"{"method",-64} {"windows/s",12} {"range",21}  target");
            string batchedName = $"per-filter saliency, all {explainer.Graph.TotalFilters} filters, batched";
            const string loopName = "per-filter saliency, one backward per filter (baseline)";
            var live = new LiveExplanationPass(explainer, new ExplainOptions { IncludeReceivedSaliency = false, TimesInput = true }, 0.1);
            var liveBaseline = new LiveExplanationPass(general, new ExplainOptions { IncludeReceivedSaliency = false, TimesInput = true }, 0.1);
            var methods = new List<(string Name, int Windows, Action Call, string Target)>
            {
                ("ONNX Runtime scoring (reference)", size, () => scorer.Value.Score(preprocessed, size, scores), string.Empty),
                ("saliency + influence of all layers, TorchSharp graph (baseline)", size, () => general.Explain(windows, size), string.Empty),
                ("saliency + influence of all layers, compiled", size, () => explainer.Explain(windows, size), ">= 56,000"),
                (batchedName, size, () => explainer.FilterSaliency(windows, size), ">= 400"),
                (loopName, loopWindows, () => explainer.FilterSaliencyOnePassPerFilter(windows.AsSpan(0, loopWindows * channels * length), loopWindows), string.Empty),
                ("one FGSM step + rescore (eps 0.1), TorchSharp graph (baseline)", size, () => general.Fgsm(windows, size, 0.1), string.Empty),
                ("one FGSM step + rescore (eps 0.1), compiled", size, () => explainer.Fgsm(windows, size, 0.1), ">= 77,000"),
                ("smallest flipping eps (eps_max 0.5, tol 0.01), TorchSharp (baseline)", size, () => general.SmallestFlippingEpsilon(windows, size), string.Empty),
                ("smallest flipping eps (eps_max 0.5, tol 0.01), compiled", size, () => explainer.SmallestFlippingEpsilon(windows, size), ">= 3,000"),
                ("live explanation, separate passes on TorchSharp (baseline)", size, () => liveBaseline.Explain(windows, size), string.Empty),
                ("live explanation (saliency, influence, top filters, FGSM), fused", size, () => live.Explain(windows, size), ">= 25,000"),
            };
            var medians = new Dictionary<string, double>();
            foreach (var (name, perCall, call, target) in methods)
            {
                if (timing.Measure(name, perCall, call) is not { } result)
                {
                    continue;
                }

                medians[name] = result.Median;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-64} {result.Median,12:N0} {$"{result.Min:N0}-{result.Max:N0}",21}  {target}"));
            }

            if (medians.TryGetValue(batchedName, out double batched) && medians.TryGetValue(loopName, out double loop))
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"per-filter saliency: batched is {batched / loop:N1}x the one-backward-per-filter baseline (target >= 10x)"));
            }

            if (timing.Includes("counterfactual") && explainer.Metadata.DecisionThreshold is not null)
            {
                Counterfactuals(output, timing, path, explainer, windows, size);
            }

            if (timing.Includes("drift") && parse.GetValue(only) is not null)
            {
                // Only when asked for by name: a simulated day of six machines (about half a million windows explained).
                DriftBench.Run(output, explainer, 24);
            }

            if (timing.Includes("patterns"))
            {
                Patterns(output, explainer);
            }

            if (timing.Includes("cluster"))
            {
                var clusterData = Windows(1_000, channels, length);
                var watch = Stopwatch.StartNew();
                var clusters = Explain.Clustering.FilterClusterer.Cluster(explainer, clusterData, 1_000);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"cluster all {clusters.Sum(c => c.Filters.Length)} filters (DTW, complete linkage, silhouette) over 1,000 windows: {watch.Elapsed.TotalSeconds:F1} s (target < 30 s)"));
            }

            if (timing.Includes("history"))
            {
                HistoryBench.Run(output, explainer, windows, size, parse.GetValue(seconds) * 1.5, parse.GetValue(postgres), cancellationToken);
            }

            if (scorer.IsValueCreated)
            {
                scorer.Value.Dispose();
            }

            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The alert counterfactual (Monitor:Counterfactual's defaults, close level threshold - 0.2) on the windows the model
    /// flags, single-threaded as the monitor's worker runs it: windows/s on the compiled kernels and on the TorchSharp
    /// graph, then what it found, each change rescored by ONNX Runtime.
    /// </summary>
    private static void Counterfactuals(TextWriter output, Timing timing, string path, Explainer explainer, float[] windows, int size)
    {
        var metadata = explainer.Metadata;
        int channels = metadata.Channels.Count, length = metadata.WindowLength, cells = channels * length;
        double threshold = metadata.DecisionThreshold!.Value, close = Math.Max(0, threshold - 0.2);
        var scores = explainer.Score(windows, size);
        var flagged = Enumerable.Range(0, size).Where(i => scores[i] >= threshold).Take(64).ToArray();
        if (flagged.Length == 0)
        {
            output.WriteLine("counterfactual: no window of the bench set is flagged by the model; nothing to measure");
            return;
        }

        var alerts = flagged.SelectMany(i => windows.AsSpan(i * cells, cells).ToArray()).ToArray();
        var options = new CounterfactualOptions { Below = close };
        using var single = Explainer.Load(path, parallelism: 1);
        using var singleGeneral = Explainer.Load(path, parallelism: 1, kernels: ExplainerKernels.TorchSharp);
        string baselineName = $"counterfactual of {flagged.Length} alert windows (close {close:0.##}), TorchSharp (baseline)";
        string name = $"counterfactual of {flagged.Length} alert windows (close {close:0.##}), compiled";
        foreach (var (line, method) in new[] { (baselineName, new SparseCounterfactual(singleGeneral)), (name, new SparseCounterfactual(single)) })
        {
            if (timing.Measure(line, flagged.Length, () => method.Explain(new WindowBatch(alerts, flagged.Length), options)) is { } result)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{line,-64} {result.Median,12:N0} {$"{result.Min:N0}-{result.Max:N0}",21}"));
            }
        }

        var results = new SparseCounterfactual(single).Explain(new WindowBatch(alerts, flagged.Length), options);
        var changed = results.SelectMany(r => r.Window).ToArray();
        WindowPreprocessing.Apply(metadata.Preprocessing, changed, channels, length);
        var verified = new float[flagged.Length];
        using (var scorer = OnnxRuntimeScorer.Open(path))
        {
            scorer.Score(changed, flagged.Length, verified);
        }

        var found = Enumerable.Range(0, flagged.Length).Where(i => results[i].Found && verified[i] < close).ToArray();
        var counts = found.Select(i => results[i].Changes.Count).Order().ToArray();

        // How often the changed cells are among the window's most salient 5 % (the live saliency, gradient x input).
        var saliency = single.Explain(alerts, flagged.Length, new ExplainOptions { TimesInput = true });
        int top = Math.Max(1, cells / 20), changedCells = 0, salientCells = 0;
        foreach (int i in found)
        {
            var salient = Enumerable.Range(0, cells).OrderByDescending(j => saliency[i].Saliency[j]).Take(top).ToHashSet();
            changedCells += results[i].Changes.Count;
            salientCells += results[i].Changes.Count(c => salient.Contains((c.Channel * length) + c.Step));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"counterfactual: {found.Length} of {flagged.Length} alert windows ({100.0 * found.Length / flagged.Length:0.#} %) found and verified below {close:0.##} by ONNX Runtime; cells changed: median {(counts.Length > 0 ? counts[counts.Length / 2] : 0)}, max {(counts.Length > 0 ? counts[^1] : 0)} of {cells} (budget {results[0].MaxCells}); {salientCells} of the {changedCells} changed cells ({100.0 * salientCells / Math.Max(1, changedCells):0.#} %) are among their window's {top} most salient; mean evaluations per window {results.Average(r => r.Evaluations):N0}"));
    }

    /// <summary>
    /// The nightly pattern grouping at its default cap (Jobs:PatternMaxAlerts, 2,000 alerts) with signatures of the
    /// deployed model's layout (saliency of every cell, influence of every filter), planted as 20 kinds of fault.
    /// </summary>
    private static void Patterns(TextWriter output, Explainer explainer)
    {
        int saliency = explainer.Metadata.Channels.Count * explainer.Metadata.WindowLength, filters = explainer.Graph.TotalFilters;
        var random = new Random(20_261_204);
        // Peaked like real signatures (a few salient cells, a few influential filters): cubes of uniform values.
        var kinds = Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, saliency + filters).Select(_ => (float)Math.Pow(random.NextDouble(), 3)).ToArray()).ToArray();
        var alerts = Enumerable.Range(0, 2_000).Select(i => new Plugins.History.AlertRecord
        {
            Id = string.Create(CultureInfo.InvariantCulture, $"m{i % 40}:{i}"),
            Machine = string.Create(CultureInfo.InvariantCulture, $"m{i % 40}"),
            ModelVersion = "bench",
            Status = "closed",
            Since = DateTimeOffset.UnixEpoch.AddMinutes(i),
            PeakWindowId = "w",
            Signature = [.. kinds[i % 20].Select(v => v + (float)(0.05 * random.NextDouble()))],
            SignatureSaliencyLength = saliency,
            ChannelContributions = explainer.Metadata.Channels.ToDictionary(c => c, _ => 1f / explainer.Metadata.Channels.Count),
        }).ToList();
        var watch = Stopwatch.StartNew();
        var assignments = Plugins.History.PatternClustering.Cluster(alerts, 0.8);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"patterns: 2,000 alerts ({saliency + filters} floats per signature, 20 planted kinds) grouped into {assignments.Select(a => a.PatternId).Distinct().Count()} patterns in {watch.Elapsed.TotalSeconds:F2} s"));
    }

    private static float[] Windows(int count, int channels, int length)
    {
        if (channels == AnomalyDatasetGenerator.ChannelNames.Count && length == AnomalyDatasetGenerator.WindowLength)
        {
            return new AnomalyDatasetGenerator(20_261_126).Generate(count).Windows.Values;
        }

        var random = new GaussianRandom(20_261_126);
        return Enumerable.Range(0, count * channels * length).Select(_ => (float)random.Normal()).ToArray();
    }

    private sealed record Measurement(double Median, double Min, double Max);

    private sealed class Timing(double seconds, int rounds, string? only, CancellationToken cancellationToken)
    {
        public bool Includes(string name) => only is null || name.Contains(only, StringComparison.OrdinalIgnoreCase);

        public Measurement? Measure(string name, int windowsPerCall, Action call)
        {
            if (!Includes(name))
            {
                return null;
            }

            // Warm-up of a second at least: tiered JIT compilation, plan caches, allocator pools.
            var warmUp = Stopwatch.StartNew();
            do
            {
                call();
            }
            while (warmUp.Elapsed.TotalSeconds < 1);
            var rates = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long calls = 0;
                var watch = Stopwatch.StartNew();
                while (watch.Elapsed.TotalSeconds < seconds)
                {
                    call();
                    calls++;
                }

                rates.Add(calls * windowsPerCall / watch.Elapsed.TotalSeconds);
            }

            rates.Sort();
            return new Measurement(rates[rates.Count / 2], rates[0], rates[^1]);
        }
    }
}
