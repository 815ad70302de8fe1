using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TSViz.Explain;
using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Explain.Evaluation;
using TSViz.Monitor.Cli;
using TSViz.Monitor.Training;

namespace TSViz.Monitor.Analysis;

/// <summary>
/// `evaluate`: scores input attribution methods on a model's held-out windows (deletion and insertion against a
/// random order, infidelity, max-sensitivity, completeness, pointing and AUPRC on the anomaly workload's planted
/// spikes, throughput); prints the method x metric table and writes the rows and curves as JSON.
/// </summary>
internal static class EvaluateVerb
{
    /// <summary>The metrics in table order: JSON name, column heading, format.</summary>
    private static readonly (string Metric, string Heading, string Format)[] Columns =
    [
        ("windows-per-second", "windows/s", "F0"),
        ("deletion-auc", "deletion AUC (lower better)", "F3"),
        ("insertion-auc", "insertion AUC (higher better)", "F3"),
        ("infidelity", "infidelity", "G3"),
        ("infidelity-normalized", "infidelity, normalised", "G3"),
        ("max-sensitivity", "max-sensitivity", "F3"),
        ("completeness-gap", "completeness gap", "P1"),
        ("pointing-exact", "pointing, exact", "P1"),
        ("pointing-within-one-step", "pointing, +-1 step", "P1"),
        ("auprc", "AUPRC", "F3"),
    ];

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The ONNX model.", DefaultValueFactory = _ => "models/anomaly-cnn.onnx" };
        var input = new Option<string?>("--input") { Description = "Windows as JSON lines (as for `explain`; \"spike\": {\"channel\": c, \"step\": t} or null on every line gives the ground truth); default: the model's reference test (held-out) windows." };
        var methods = new Option<string>("--methods")
        {
            Description = $"Comma-separated methods: {AttributionMethodName.Valid}.",
            DefaultValueFactory = _ => string.Join(',', AttributionSaliency.Methods),
        };
        var count = new Option<int>("--windows") { Description = "At most this many windows (the first ones).", DefaultValueFactory = _ => 1000 };
        var destination = new Option<string>("--output") { Description = "Where to write the rows and curves (JSON).", Required = true };
        var data = new Option<string>("--data") { Description = "The traffic CSV, for the traffic model's reference windows.", DefaultValueFactory = _ => ReferenceWorkload.DefaultTrafficData };
        var command = new Command("evaluate", "Evaluate input attribution methods (faithfulness, robustness, ground truth, speed) and print the method x metric table.")
        {
            model, input, methods, count, destination, data,
        };
        command.SetAction((parse, cancellationToken) => VerbErrors.RunAsync(error, async () =>
        {
            var chosen = AttributionMethodName.ParseList(parse.GetValue(methods)!);
            int limit = parse.GetValue(count);
            if (limit < 1)
            {
                throw new ArgumentException($"--windows must be at least 1 (got {limit}).");
            }

            using var explainer = Explainer.Load(parse.GetValue(model)!);
            var (windows, spikes, description) = await LoadAsync(explainer, parse.GetValue(input), limit, parse.GetValue(data)!, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"Data: {description}.").ConfigureAwait(false);
            var options = new AttributionEvaluationOptions();
            var result = AttributionEvaluation.Run(explainer, windows.Values, windows.Count, chosen, spikes, options,
                line => output.WriteLine($"  {line}"), cancellationToken);
            var rows = Rows(result);
            var json = new EvaluationJson(
                explainer.Metadata.Name, explainer.Metadata.Version, description, result.Windows, result.Explained, result.Orientation,
                new EvaluationSettingsJson(options.RandomOrders, options.InfidelitySigma, options.InfidelitySamples, options.SensitivityRadius, options.SensitivitySamples, options.Seed,
                    "0 in the model's input space",
                    string.Create(CultureInfo.InvariantCulture, $"I ~ N(0, {options.InfidelitySigma}^2) in every cell of the model's input space, {options.InfidelitySamples} per window; Captum's infidelity (normalize false and true)"),
                    string.Create(CultureInfo.InvariantCulture, $"uniform in the L-infinity ball of radius {options.SensitivityRadius} around the window as received, {options.SensitivitySamples} per window, the method re-run; Captum's sensitivity_max (Frobenius norm relative to ||A(x)||)")),
                rows,
                [.. new[] { result.Random }.Concat(result.Methods).SelectMany(m => new[]
                {
                    new EvaluationCurveJson(m.Method, "deletion", m.Deletion.Fractions, m.Deletion.Values, m.Deletion.Area),
                    new EvaluationCurveJson(m.Method, "insertion", m.Insertion.Fractions, m.Insertion.Values, m.Insertion.Area),
                })]);
            await File.WriteAllTextAsync(parse.GetValue(destination)!, JsonSerializer.Serialize(json, EvaluateJsonContext.Default.EvaluationJson), cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(Table(result, rows, spikes is not null)).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    private static async Task<(WindowSet Windows, PlantedSpike[]? Spikes, string Description)> LoadAsync(Explainer explainer, string? input, int limit, string trafficData, CancellationToken cancellationToken)
    {
        var metadata = explainer.Metadata;
        if (input is not null)
        {
            var (set, planted) = await ReferenceData.ReadWithSpikesAsync(input, metadata, requireTargets: false, cancellationToken).ConfigureAwait(false);
            int n = Math.Min(limit, set.Count);
            return (set.Slice(0, n), planted?.AsSpan(0, n).ToArray(),
                planted is null ? $"the first {n} windows of {input}" : $"the first {n} windows of {input} ({planted.Take(n).Count(p => p.IsAnomaly)} with a planted spike)");
        }

        if (metadata.Extra.TryGetValue("tsviz.workload", out var name) && string.Equals(name, nameof(WorkloadKind.Anomaly), StringComparison.OrdinalIgnoreCase))
        {
            // The test set is generated with its spikes known: the ground truth pointing and AUPRC need.
            int seed = metadata.Extra.TryGetValue("tsviz.training_seed", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 1;
            var test = AnomalyDatasetGenerator.Test(seed);
            int n = Math.Min(limit, test.Windows.Count);
            return (test.Windows.Slice(0, n), test.Spikes.AsSpan(0, n).ToArray(),
                $"anomaly reference test windows, seed {seed}: the first {n} ({test.Spikes.Take(n).Count(p => p.IsAnomaly)} with a planted spike)");
        }

        var reference = await ReferenceData.LoadAsync(metadata, null, 0, trafficData, cancellationToken).ConfigureAwait(false);
        int count = Math.Min(limit, reference.Evaluation.Count);
        return (reference.Evaluation.Slice(0, count), null, $"{name ?? "reference"} reference test windows: the first {count} of {reference.Evaluation.Count}");
    }

    private static List<EvaluationRowJson> Rows(AttributionEvaluationResult result)
    {
        var rows = new List<EvaluationRowJson>();
        foreach (var m in result.Methods.Append(result.Random))
        {
            foreach (var (metric, _, _) in Columns)
            {
                double value = Value(m, metric);
                if (!double.IsNaN(value))
                {
                    rows.Add(new EvaluationRowJson(m.Method, metric, value));
                }
            }
        }

        return rows;
    }

    private static double Value(MethodEvaluation m, string metric) => metric switch
    {
        "windows-per-second" => m.WindowsPerSecond,
        "deletion-auc" => m.Deletion.Area,
        "insertion-auc" => m.Insertion.Area,
        "infidelity" => m.Infidelity,
        "infidelity-normalized" => m.InfidelityNormalized,
        "max-sensitivity" => m.MaxSensitivity,
        "completeness-gap" => m.CompletenessGap,
        "pointing-exact" => m.GroundTruth?.PointingExact ?? double.NaN,
        "pointing-within-one-step" => m.GroundTruth?.PointingWithinOneStep ?? double.NaN,
        "auprc" => m.GroundTruth?.AveragePrecision ?? double.NaN,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
    };

    private static string Table(AttributionEvaluationResult result, IReadOnlyList<EvaluationRowJson> rows, bool groundTruth)
    {
        var columns = Columns.Where(c => groundTruth || c.Metric is not ("pointing-exact" or "pointing-within-one-step" or "auprc")).ToList();
        var c = CultureInfo.InvariantCulture;
        var table = new StringBuilder();
        table.Append(c, $"Explained: {result.Explained} ({result.Windows} windows");
        var positives = result.Methods.Count > 0 ? result.Methods[0].GroundTruth?.TruePositives : null;
        table.Append(positives is int p ? string.Create(c, $", {p} true positives for the ground truth)") : ")");
        table.Append('\n');
        table.Append("| method | ").AppendJoin(" | ", columns.Select(col => col.Heading)).Append(" |\n");
        table.Append("|---|").Append(string.Concat(columns.Select(_ => "---|"))).Append('\n');
        foreach (var m in result.Methods.Append(result.Random))
        {
            table.Append(c, $"| {m.Method} |");
            foreach (var (metric, _, format) in columns)
            {
                var row = rows.FirstOrDefault(r => r.Method == m.Method && r.Metric == metric);
                table.Append(' ').Append(row is null ? "-" : row.Value.ToString(format, c)).Append(" |");
            }

            table.Append('\n');
        }

        return table.ToString();
    }
}
