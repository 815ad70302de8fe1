using TSViz.Explain;
using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.History;
using TSViz.Monitor.Live;
using TSViz.Monitor.Security;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Web;

/// <summary>
/// The network explorer's data, computed on demand on the deployed weights: the architecture, one stored window's
/// filters (influence and activations), recursive highlighting of one of its activations, and the inverse-optimised
/// input of the model. The on-demand computations run on the <see cref="InteractiveExplainer"/>, within its limit.
/// </summary>
internal static class ExplorerApi
{
    public static void MapExplorerApi(this WebApplication app)
    {
        app.MapGet("/api/model", (LiveModel model) => Results.Json(new
        {
            name = model.Metadata.Name,
            version = model.Metadata.Version,
            channels = model.Metadata.Channels,
            windowLength = model.Metadata.WindowLength,
            preprocessing = model.Metadata.Preprocessing,
            threshold = model.Threshold,
            layers = model.Explainer.Graph.Layers.Select(l => new { name = l.Name, index = l.Index, filters = l.Filters, outputLength = l.OutputLength, activation = l.Activation }),
        })).WithTags("model").WithName("Model").RequireAuthorization(Roles.Viewer).WithSummary("The deployed model: channels, window length, preprocessing, threshold and its convolutional layers (filters, output length, activation).");

        app.MapGet("/api/windows/{id}/influence", async (string id, IHistoryQueries store, LiveModel model, InteractiveExplainer interactive, CancellationToken ct) =>
        {
            id = ApiParameters.RouteId(id);
            using var turn = await interactive.TryTakeAsync(ct).ConfigureAwait(false);
            if (turn is null)
            {
                return interactive.Refused();
            }

            var (detail, problem) = await WebView.StoredInputAsync(store, model, id, ct).ConfigureAwait(false);
            if (detail is null)
            {
                return problem!;
            }

            var modelInput = (float[])detail.Input.Clone();
            WindowPreprocessing.Apply(model.Metadata.Preprocessing, modelInput, detail.Channels, detail.Length);
            var (e, layers) = await turn.RunAsync(x => (
                new SaliencyAndInfluence(x).Explain(WindowBatch.One(detail.Input), new ExplainOptions { IncludeReceivedSaliency = false, IncludeActivations = true }, ct)[0],
                x.Layers)).ConfigureAwait(false);
            return Results.Json(new
            {
                id,
                score = e.Score,
                modelInput = ChannelRows.Of(modelInput, detail.Channels, detail.Length),
                saliency = ChannelRows.Of(e.Saliency, detail.Channels, detail.Length),
                layers = e.Layers.Select((l, i) => new
                {
                    name = l.Name,
                    influence = l.Influence,
                    scaled = l.Scaled,
                    ranking = l.Ranking,
                    activations = ChannelRows.Of(l.Activations!, layers[i].Filters, layers[i].OutputLength),
                }),
            });
        }).WithTags("model").WithName("WindowInfluence").RequireAuthorization(Roles.Viewer).RequireRateLimiting(HttpSecurity.Costly).ProducesProblem(StatusCodes.Status429TooManyRequests)
          .WithSummary("One stored window through the deployed model: its model input, input saliency, and every layer's filter influence (Eq. 16, raw, scaled 0-1, ranked) and activations.");

        app.MapGet("/api/windows/{id}/trace", async (string id, string? layer, string? filter, string? step, IHistoryQueries store, LiveModel model, InteractiveExplainer interactive, CancellationToken ct) =>
        {
            id = ApiParameters.RouteId(id);
            var p = new ApiParameters();
            var layers = model.Explainer.Layers;
            string? name = p.OneOf("layer", p.Required("layer", layer), [.. layers.Select(l => l.Name)]);
            var chosen = layers.FirstOrDefault(l => l.Name == name);
            int? f = chosen is null ? null : p.Integer("filter", p.Required("filter", filter), 0, chosen.Filters - 1);
            int? t = chosen is null ? null : p.Integer("step", p.Required("step", step), 0, chosen.OutputLength - 1);
            if (p.Failed is { } failed)
            {
                return failed;
            }

            // Here the layer exists and filter and step lie in it (each check fails on a missing value too).
            var at = (Layer: chosen!.Name, Filter: f!.Value, Step: t!.Value);
            using var turn = await interactive.TryTakeAsync(ct).ConfigureAwait(false);
            if (turn is null)
            {
                return interactive.Refused();
            }

            var (detail, problem) = await WebView.StoredInputAsync(store, model, id, ct).ConfigureAwait(false);
            if (detail is null)
            {
                return problem!;
            }

            var window = WindowBatch.One(detail.Input);
            var (trace, saliency) = await turn.RunAsync(x => (
                new ActivationTrace(x).Explain(window, new TraceOptions { Layer = at.Layer, Filter = at.Filter, Step = at.Step }, ct)[0],
                new PerFilterSaliency(x).Explain(window, new FilterSaliencyOptions { Filters = new Dictionary<string, int[]> { [at.Layer] = [at.Filter] } }, ct)[0][0])).ConfigureAwait(false);

            return Results.Json(new
            {
                id,
                layer = trace.Layer,
                filter = trace.Filter,
                step = trace.Step,
                activation = trace.Activation,
                filterSaliency = ChannelRows.Of(saliency.Saliency, detail.Channels, detail.Length),
                levels = trace.Levels.Select(l => new
                {
                    level = l.Level,
                    rows = l.Rows,
                    length = l.Length,
                    points = l.Points.Select(p => new { row = p.Row, step = p.Step, weight = p.Weight }),
                }),
            });
        }).WithTags("model").WithName("ActivationTrace").RequireAuthorization(Roles.Viewer).RequireRateLimiting(HttpSecurity.Costly).ProducesProblem(StatusCodes.Status429TooManyRequests)
          .WithSummary("Recursive highlighting: the points of every lower layer and of the model input that produced one activation (through max-pooling only the maxima), and that filter's input saliency (Eq. 11-13).");

        app.MapGet("/api/model/inversion", async (string? target, ModelInversion inversion, InteractiveExplainer interactive, CancellationToken ct) =>
        {
            var p = new ApiParameters();
            double goal = p.Number("target", target, 0, 1) ?? 1; // a probability; 1: what the model takes for a sure anomaly
            if (p.Failed is { } failed)
            {
                return failed;
            }

            var result = await inversion.GetAsync(goal, ct).ConfigureAwait(false);
            return result is null ? interactive.Refused() : Results.Json(result);
        }).WithTags("model").WithName("Inversion").RequireAuthorization(Roles.Engineer).RequireRateLimiting(HttpSecurity.Costly).ProducesProblem(StatusCodes.Status429TooManyRequests)
          .WithSummary("Inverse optimisation (Eq. 24-25; alpha 0.01, 1000 steps, seeded starts): inputs the deployed model maps to the target (rounded to 0.05), in model input space, with each start's score trajectory.");
    }
}
