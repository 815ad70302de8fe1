using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TSViz.Explain;
using TSViz.Explain.Clustering;
using TSViz.Monitor.Cli;

namespace TSViz.Monitor.Analysis;

/// <summary>`cluster`: every conv layer's filters clustered by the DTW distance of their activations (TSViz IV-C).</summary>
internal static class ClusterVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The ONNX model.", DefaultValueFactory = _ => "models/anomaly-cnn.onnx" };
        var input = new Option<string?>("--input") { Description = "Windows as JSON lines (as for `explain`); default: the model's reference test windows." };
        var count = new Option<int>("--windows") { Description = "Reference windows to use when --input is not given.", DefaultValueFactory = _ => 1000 };
        var destination = new Option<string>("--output") { Description = "Where to write the result (JSON).", Required = true };
        var layers = new Option<string[]>("--layers") { Description = "Only these layers (default: all).", AllowMultipleArgumentsPerToken = true };
        var data = new Option<string>("--data") { Description = "The traffic CSV, for the traffic model's reference windows.", DefaultValueFactory = _ => "data/internet-traffic-b5m.csv" };
        var command = new Command("cluster", "Cluster each layer's filters (DTW, complete linkage, silhouette-chosen k) and write the dendrograms.")
        {
            model, input, count, destination, layers, data,
        };
        command.SetAction((parse, cancellationToken) => VerbErrors.RunAsync(error, async () =>
        {
            using var explainer = Explainer.Load(parse.GetValue(model)!);
            var windows = parse.GetValue(input) is { } path
                ? await ReferenceData.ReadAsync(path, explainer.Metadata, requireTargets: false, cancellationToken).ConfigureAwait(false)
                : (await ReferenceData.LoadAsync(explainer.Metadata, null, 0, parse.GetValue(data)!, cancellationToken).ConfigureAwait(false)).Evaluation;
            int n = parse.GetValue(input) is null ? Math.Min(parse.GetValue(count), windows.Count) : windows.Count;
            var watch = Stopwatch.StartNew();
            var result = FilterClusterer.Cluster(explainer, windows.Values.AsSpan(0, n * windows.Channels * windows.Length), n, parse.GetValue(layers));
            var json = new ClusterResultJson(
                explainer.Metadata.Name, explainer.Metadata.Version, n,
                "DTW (Euclidean point cost) of min-max scaled activations, mean over the windows",
                result.Select(r => new LayerClusteringJson(r.Layer, r.Filters, r.Distances, r.Merges,
                    r.SilhouetteByK.Select((score, i) => new SilhouetteJson(i + 2, score)).ToList(),
                    r.ChosenK, r.Labels, r.Representatives, r.MeanInfluence)).ToList());
            await File.WriteAllTextAsync(parse.GetValue(destination)!, JsonSerializer.Serialize(json, AnalysisJsonContext.Default.ClusterResultJson), cancellationToken).ConfigureAwait(false);
            foreach (var r in result)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Layer}: {r.Filters.Length} filters in {r.ChosenK} clusters (silhouette {(r.SilhouetteByK.Length > 0 ? r.SilhouetteByK.Max() : double.NaN):F3}); representatives {string.Join(", ", r.Representatives)}")).ConfigureAwait(false);
            }

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{n} windows, {explainer.Graph.TotalFilters} filters clustered in {watch.Elapsed.TotalSeconds:F1} s.")).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }
}
