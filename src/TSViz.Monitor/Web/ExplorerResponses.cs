using Microsoft.AspNetCore.Mvc;

namespace TSViz.Monitor.Web;

// The explorer's and the web view's request and response bodies (camelCase JSON: each property's name in camelCase,
// in this order). Series are one row per channel (or per filter for a layer's activations).

/// <summary>GET /api/model: the deployed model and its convolutional layers.</summary>
internal sealed record ModelResponse(
    string Name,
    string Version,
    IReadOnlyList<string> Channels,
    int WindowLength,
    string Preprocessing,
    double Threshold,
    IReadOnlyList<ModelLayerResponse> Layers);

/// <summary>One convolutional layer: its filters, the length of each filter's output and its activation function.</summary>
internal sealed record ModelLayerResponse(string Name, int Index, int Filters, int OutputLength, string Activation);

/// <summary>GET /api/windows/{id}/influence: a stored window's model input, input saliency and every layer's filter influence.</summary>
internal sealed record WindowInfluenceResponse(string Id, float Score, float[][] ModelInput, float[][] Saliency, IReadOnlyList<LayerInfluenceResponse> Layers);

/// <summary>One layer's filter influence (Eq. 16: raw, scaled 0-1, filters ranked) and its activations (one row per filter).</summary>
internal sealed record LayerInfluenceResponse(string Name, float[] Influence, float[] Scaled, int[] Ranking, float[][] Activations);

/// <summary>GET /api/windows/{id}/trace: the traced activation, its filter's input saliency, and the points of each lower level that produced it.</summary>
internal sealed record ActivationTraceResponse(
    string Id,
    string Layer,
    int Filter,
    int Step,
    float Activation,
    float[][] FilterSaliency,
    IReadOnlyList<TraceLevelResponse> Levels);

/// <summary>One level below the traced activation ("input" or a conv layer) and its responsible points.</summary>
internal sealed record TraceLevelResponse(string Level, int Rows, int Length, IReadOnlyList<TracePointResponse> Points);

/// <summary>A responsible point: row (channel or filter), step and weight (the level's largest is 1).</summary>
internal sealed record TracePointResponse(int Row, int Step, float Weight);

/// <summary>
/// GET /api/alerts/{id}/adversarial: the alert's peak window (<paramref name="WindowId"/>, the peak at the time of
/// asking) under one FGSM step, in model input space, with the scores before and after.
/// </summary>
internal sealed record AdversarialPeakResponse(
    string WindowId,
    string Method,
    double Epsilon,
    float ScoreBefore,
    float ScoreAfter,
    bool? Flipped,
    float[][] Window,
    float[][] AdversarialWindow);

/// <summary>GET /api/windows/{id}/trace's query: the activation to trace (all required; text, validated by the API).</summary>
internal sealed record TraceRequest(
    [FromQuery(Name = "layer")] string? Layer,
    [FromQuery(Name = "filter")] string? Filter,
    [FromQuery(Name = "step")] string? Step);

/// <summary>GET /api/model/inversion's query: the target probability (0-1, default 1).</summary>
internal sealed record InversionRequest([FromQuery(Name = "target")] string? Target);

/// <summary>GET /api/alerts/{id}/adversarial's query: the FGSM step (1e-4 to 5, default 0.1).</summary>
internal sealed record AdversarialRequest([FromQuery(Name = "eps")] string? Eps);
