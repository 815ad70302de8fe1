using System.CommandLine;
using System.Text.Json;
using TSViz.Explain;
using TSViz.Explain.Attribution;
using TSViz.Explain.Graph;
using TSViz.Explain.Robustness;
using TSViz.Monitor.Cli;

namespace TSViz.Monitor.Explaining;

/// <summary>Which robustness result `explain` adds.</summary>
internal enum RobustnessMethod
{
    None,
    Fgsm,
    Iterative,
    Paper,
    Flip,
}

/// <summary>
/// `explain`: JSON lines of windows in, one JSON line of TSViz explanations out per window, in input order. A bad
/// line produces a line with its error and the rest goes on; the exit code is 1 when any line was rejected.
/// </summary>
internal static class ExplainVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The ONNX model to explain.", DefaultValueFactory = _ => "models/anomaly-cnn.onnx" };
        var input = new Option<string>("--input") { Description = "JSON lines {\"id\", \"values\": [[channel 0...], ...]}; - for standard input.", DefaultValueFactory = _ => "-" };
        var destination = new Option<string>("--output") { Description = "Where to write the explanations; - for standard output.", DefaultValueFactory = _ => "-" };
        var target = new Option<GradientTarget>("--target") { Description = "What to differentiate: auto (the logit where there is one), logit, output, temperature.", DefaultValueFactory = _ => GradientTarget.Auto };
        var temperature = new Option<double>("--temperature") { Description = "T of Eq. 19 for --target temperature.", DefaultValueFactory = _ => 1.5 };
        var topSteps = new Option<int>("--top-steps") { Description = "How many of the most salient input points to list.", DefaultValueFactory = _ => 5 };
        var activations = new Option<bool>("--activations") { Description = "Also write every filter's activation." };
        var filterSaliency = new Option<int>("--filter-saliency") { Description = "Per-filter input saliency of the N most influential filters of each layer (0: none).", DefaultValueFactory = _ => 0 };
        var robustness = new Option<RobustnessMethod>("--robustness") { Description = "none, fgsm (one step at --eps), iterative (10 steps), paper (alpha 1e-4, 1000 steps at --eps) or flip (smallest flipping eps up to --eps-max).", DefaultValueFactory = _ => RobustnessMethod.None };
        var eps = new Option<double>("--eps") { Description = "Attack budget in the model's input units.", DefaultValueFactory = _ => 0.1 };
        var epsMax = new Option<double>("--eps-max") { Description = "Largest eps the flip search tries.", DefaultValueFactory = _ => 0.5 };
        var percentile = new Option<double?>("--percentile") { Description = "Also list, per layer, the filters whose influence is at or above this percentile (0-100)." };
        var method = new Option<string>("--saliency-method")
        {
            Description = $"The input attribution behind the saliency: {string.Join(", ", AttributionSaliency.Methods)}.",
            DefaultValueFactory = _ => AttributionSaliency.Gradient,
        };
        method.AcceptOnlyFromAmong([.. AttributionSaliency.Methods]);
        var batch = new Option<int>("--batch") { Description = "Windows per batch.", DefaultValueFactory = _ => 256 };
        var command = new Command("explain", "Explain windows with the TSViz methods: saliency, filter influence, per-filter saliency, robustness.")
        {
            model, input, destination, target, temperature, topSteps, activations, filterSaliency, robustness, eps, epsMax, percentile, method, batch,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new Settings(
                new ExplainOptions
                {
                    Target = parse.GetValue(target),
                    Temperature = parse.GetValue(temperature),
                    TopSteps = parse.GetValue(topSteps),
                    IncludeActivations = parse.GetValue(activations),
                    TimesInput = parse.GetValue(method) == AttributionSaliency.GradientTimesInput,
                },
                parse.GetValue(method)!,
                parse.GetValue(filterSaliency),
                parse.GetValue(robustness),
                parse.GetValue(eps),
                parse.GetValue(epsMax),
                parse.GetValue(percentile),
                Math.Max(1, parse.GetValue(batch)));
            if (settings.Percentile is < 0 or > 100)
            {
                await error.WriteLineAsync($"error: --percentile must lie in 0..100, got {settings.Percentile}.").ConfigureAwait(false);
                return VerbErrors.BadInput;
            }

            return await VerbErrors.RunAsync(error, async () =>
            {
                using var explainer = Explainer.Load(parse.GetValue(model)!);
                string inputPath = parse.GetValue(input)!;
                string outputPath = parse.GetValue(destination)!;
                using var reader = inputPath == "-" ? null : File.OpenText(inputPath);
                await using var writer = outputPath == "-" ? null : new StreamWriter(outputPath);
                var (explained, rejected) = await RunAsync(explainer, reader ?? Console.In, writer ?? output, settings, cancellationToken).ConfigureAwait(false);
                await error.WriteLineAsync($"{explained} windows explained, {rejected} lines rejected.").ConfigureAwait(false);
                return rejected == 0 ? 0 : 1;
            }).ConfigureAwait(false);
        });
        return command;
    }

    internal sealed record Settings(ExplainOptions Explain, string SaliencyMethod, int FilterSaliencyTop, RobustnessMethod Robustness, double Epsilon, double EpsilonMax, double? Percentile, int Batch);

    internal static async Task<(int Explained, int Rejected)> RunAsync(
        Explainer explainer, TextReader reader, TextWriter writer, Settings settings, CancellationToken cancellationToken)
    {
        int channels = explainer.Metadata.Channels.Count;
        int length = explainer.Metadata.WindowLength;
        var pending = new List<WindowLine>();
        int explained = 0, rejected = 0;
        await foreach (var line in WindowLines.ReadAsync(reader, channels, length, cancellationToken).ConfigureAwait(false))
        {
            pending.Add(line);
            if (pending.Count(p => p.Values is not null) >= settings.Batch)
            {
                (int e, int r) = await FlushAsync(explainer, pending, writer, settings).ConfigureAwait(false);
                explained += e;
                rejected += r;
            }
        }

        (int lastExplained, int lastRejected) = await FlushAsync(explainer, pending, writer, settings).ConfigureAwait(false);
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return (explained + lastExplained, rejected + lastRejected);
    }

    private static async Task<(int Explained, int Rejected)> FlushAsync(Explainer explainer, List<WindowLine> pending, TextWriter writer, Settings settings)
    {
        var valid = pending.Where(p => p.Values is not null).ToList();
        int channels = explainer.Metadata.Channels.Count;
        int length = explainer.Metadata.WindowLength;
        var lines = new Dictionary<WindowLine, ExplanationLine>();
        if (valid.Count > 0)
        {
            var values = valid.SelectMany(v => v.Values!).ToArray();
            var explanations = explainer.Explain(values, valid.Count, settings.Explain);
            if (settings.SaliencyMethod is not (AttributionSaliency.Gradient or AttributionSaliency.GradientTimesInput))
            {
                var attributions = AttributionSaliency.Compute(settings.SaliencyMethod, explainer, values, valid.Count, settings.Explain);
                explanations = [.. explanations.Select((e, i) => AttributionSaliency.Apply(e, attributions[i], explainer.Metadata.Channels, settings.Explain.TopSteps))];
            }

            var robustness = Robustness(explainer, values, valid.Count, settings, channels, length);
            for (int i = 0; i < valid.Count; i++)
            {
                var e = explanations[i];
                IReadOnlyList<FilterSaliencyJson>? filterMaps = null;
                if (settings.FilterSaliencyTop > 0)
                {
                    var chosen = e.Layers.ToDictionary(l => l.Name, l => l.Ranking.Take(settings.FilterSaliencyTop).ToArray());
                    filterMaps = explainer.FilterSaliency(valid[i].Values!, 1, chosen)[0]
                        .Select(m => new FilterSaliencyJson(m.Layer, m.Filter, ChannelRows.Of(m.Saliency, channels, length))).ToList();
                }

                lines[valid[i]] = new ExplanationLine
                {
                    Id = valid[i].Id!,
                    Score = e.Score,
                    Decision = e.Decision,
                    Differentiated = e.Differentiated,
                    SaliencyMethod = e.SaliencyMethod,
                    ExplainedValue = e.ExplainedValue,
                    GradientsVanished = e.GradientsVanished,
                    OutputSaturated = e.OutputSaturated,
                    Saliency = ChannelRows.Of(e.Saliency, channels, length),
                    SaliencyRaw = ChannelRows.Of(e.SaliencyRaw, channels, length),
                    SaliencyReceived = e.SaliencyReceived is null ? null : ChannelRows.Of(e.SaliencyReceived, channels, length),
                    ChannelContributions = explainer.Metadata.Channels.Select((name, c) => (name, c)).ToDictionary(p => p.name, p => e.ChannelContributions[p.c]),
                    TopSteps = e.TopSteps.Select(s => new TopStepJson(s.ChannelName, s.Step, s.Saliency)).ToList(),
                    Layers = e.Layers.Select(l => new LayerJson(l.Name, l.Influence, l.Scaled, l.Ranking,
                        settings.Percentile is double p ? FilterSelection.AtOrAbovePercentile(l.Influence, p) : null,
                        l.Activations is null ? null : ChannelRows.Of(l.Activations, l.Influence.Length, l.Activations.Length / l.Influence.Length))).ToList(),
                    FilterSaliency = filterMaps,
                    Robustness = robustness?[i],
                };
            }
        }

        int rejected = 0;
        foreach (var line in pending)
        {
            string json;
            if (line.Values is null)
            {
                rejected++;
                json = JsonSerializer.Serialize(new RejectedLine(line.Id, line.LineNumber, line.Error!), ExplainJsonContext.Default.RejectedLine);
            }
            else
            {
                json = JsonSerializer.Serialize(lines[line], ExplainJsonContext.Default.ExplanationLine);
            }

            await writer.WriteLineAsync(json).ConfigureAwait(false);
        }

        pending.Clear();
        return (valid.Count, rejected);
    }

    private static RobustnessJson[]? Robustness(Explainer explainer, float[] values, int count, Settings settings, int channels, int length)
    {
        switch (settings.Robustness)
        {
            case RobustnessMethod.None:
                return null;
            case RobustnessMethod.Flip:
                return explainer.SmallestFlippingEpsilon(values, count, new FlipSearchOptions { EpsilonMax = settings.EpsilonMax })
                    .Select(r => new RobustnessJson("flip-search", settings.EpsilonMax, null, null, r.ScoreBefore, r.ScoreAtEpsilon, r.SmallestFlippingEpsilon is not null,
                        r.SmallestFlippingEpsilon, r.NotFlippedUpTo, r.Tolerance, null)).ToArray();
            default:
                var results = settings.Robustness switch
                {
                    RobustnessMethod.Fgsm => explainer.Fgsm(values, count, settings.Epsilon),
                    RobustnessMethod.Paper => explainer.IterativeFgsm(values, count, IterativeFgsmOptions.Paper with { Epsilon = settings.Epsilon }),
                    _ => explainer.IterativeFgsm(values, count, new IterativeFgsmOptions { Epsilon = settings.Epsilon, Alpha = settings.Epsilon / 5 }),
                };
                return results.Select(r => new RobustnessJson(r.Method, r.Epsilon, r.Alpha, r.Steps, r.ScoreBefore, r.ScoreAfter, r.Flipped,
                    null, null, null, ChannelRows.Of(r.AdversarialWindow, channels, length))).ToArray();
        }
    }
}
