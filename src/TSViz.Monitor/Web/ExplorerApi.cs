using Microsoft.AspNetCore.Http.HttpResults;
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
        // Reading the model and its windows needs viewer; inversion engineer. The on-demand computations share the
        // interactive explainers' limit and the costly rate limit.
        var api = app.MapGroup("/api").WithTags("model").RequireAuthorization(Roles.Viewer);
        api.MapGet("/model", GetModel).WithName("Model").WithSummary("The deployed model: channels, window length, preprocessing, threshold and its convolutional layers (filters, output length, activation).");

        var costly = api.MapGroup(string.Empty).RequireRateLimiting(HttpSecurity.Costly);
        costly.MapGet("/windows/{id}/influence", WindowInfluence).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status429TooManyRequests)
          .WithName("WindowInfluence")
          .WithSummary("One stored window through the deployed model: its model input, input saliency, and every layer's filter influence (Eq. 16, raw, scaled 0-1, ranked) and activations.");

        costly.MapGet("/windows/{id}/trace", ActivationTrace).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
          .ProducesProblem(StatusCodes.Status429TooManyRequests).WithName("ActivationTrace")
          .WithSummary("Recursive highlighting: the points of every lower layer and of the model input that produced one activation (through max-pooling only the maxima), and that filter's input saliency (Eq. 11-13).");

        costly.MapGet("/model/inversion", Inversion).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status429TooManyRequests)
          .WithName("Inversion").RequireAuthorization(Roles.Engineer)
          .WithSummary("Inverse optimisation (Eq. 24-25; alpha 0.01, 1000 steps, seeded starts): inputs the deployed model maps to the target (rounded to 0.05), in model input space, with each start's score trajectory.");
    }

    public static Ok<ModelResponse> GetModel(LiveModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return TypedResults.Ok(new ModelResponse(
            model.Metadata.Name,
            model.Metadata.Version,
            model.Metadata.Channels,
            model.Metadata.WindowLength,
            model.Metadata.Preprocessing,
            model.Threshold,
            [.. model.Explainer.Graph.Layers.Select(l => new ModelLayerResponse(l.Name, l.Index, l.Filters, l.OutputLength, l.Activation))]));
    }

    public static async Task<Results<Ok<WindowInfluenceResponse>, ProblemHttpResult, InteractiveExplainer.TooManyRequests>> WindowInfluence(string id, IHistoryQueries store, LiveModel model,
        InteractiveExplainer interactive, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(interactive);
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
        return TypedResults.Ok(new WindowInfluenceResponse(
            id,
            e.Score,
            ChannelRows.Of(modelInput, detail.Channels, detail.Length),
            ChannelRows.Of(e.Saliency, detail.Channels, detail.Length),
            [.. e.Layers.Select((l, i) => new LayerInfluenceResponse(l.Name, l.Influence, l.Scaled, l.Ranking, ChannelRows.Of(l.Activations!, layers[i].Filters, layers[i].OutputLength)))]));
    }

    public static async Task<Results<Ok<ActivationTraceResponse>, ProblemHttpResult, InteractiveExplainer.TooManyRequests>> ActivationTrace(string id, [AsParameters] TraceRequest request,
        IHistoryQueries store, LiveModel model, InteractiveExplainer interactive, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(interactive);
        id = ApiParameters.RouteId(id);
        var p = new ApiParameters();
        var layers = model.Explainer.Layers;
        string? name = p.OneOf("layer", p.Required("layer", request.Layer), [.. layers.Select(l => l.Name)]);
        var chosen = layers.FirstOrDefault(l => l.Name == name);
        int? f = chosen is null ? null : p.Integer("filter", p.Required("filter", request.Filter), 0, chosen.Filters - 1);
        int? t = chosen is null ? null : p.Integer("step", p.Required("step", request.Step), 0, chosen.OutputLength - 1);
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

        return TypedResults.Ok(new ActivationTraceResponse(
            id,
            trace.Layer,
            trace.Filter,
            trace.Step,
            trace.Activation,
            ChannelRows.Of(saliency.Saliency, detail.Channels, detail.Length),
            [.. trace.Levels.Select(l => new TraceLevelResponse(l.Level, l.Rows, l.Length, [.. l.Points.Select(p => new TracePointResponse(p.Row, p.Step, p.Weight))]))]));
    }

    public static async Task<Results<Ok<InversionResult>, ProblemHttpResult, InteractiveExplainer.TooManyRequests>> Inversion([AsParameters] InversionRequest request, ModelInversion inversion,
        InteractiveExplainer interactive, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(inversion);
        ArgumentNullException.ThrowIfNull(interactive);
        var p = new ApiParameters();
        double goal = p.Number("target", request.Target, 0, 1) ?? 1; // a probability; 1: what the model takes for a sure anomaly
        if (p.Failed is { } failed)
        {
            return failed;
        }

        var result = await inversion.GetAsync(goal, ct).ConfigureAwait(false);
        return result is null ? interactive.Refused() : TypedResults.Ok(result);
    }
}
