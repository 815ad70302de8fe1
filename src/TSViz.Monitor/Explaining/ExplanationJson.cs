using System.Text.Json.Serialization;

namespace TSViz.Monitor.Explaining;

/// <summary>One line of the `explain` verb's output (camelCase JSON).</summary>
internal sealed record ExplanationLine
{
    public required string Id { get; init; }
    public required float Score { get; init; }
    public bool? Decision { get; init; }
    public required string Differentiated { get; init; }
    public required string SaliencyMethod { get; init; }
    public required float ExplainedValue { get; init; }
    public required bool GradientsVanished { get; init; }
    public required bool OutputSaturated { get; init; }
    public required float[][] Saliency { get; init; }
    public required float[][] SaliencyRaw { get; init; }
    public float[][]? SaliencyReceived { get; init; }
    public required IReadOnlyDictionary<string, float> ChannelContributions { get; init; }
    public required IReadOnlyList<TopStepJson> TopSteps { get; init; }
    public required IReadOnlyList<LayerJson> Layers { get; init; }
    public IReadOnlyList<FilterSaliencyJson>? FilterSaliency { get; init; }
    public RobustnessJson? Robustness { get; init; }
}

internal sealed record TopStepJson(string Channel, int Step, float Saliency);

internal sealed record LayerJson(string Name, float[] Influence, float[] InfluenceScaled, int[] Ranking, int[]? AtOrAbovePercentile, float[][]? Activations);

internal sealed record FilterSaliencyJson(string Layer, int Filter, float[][] Saliency);

internal sealed record RobustnessJson(
    string Method,
    double Epsilon,
    double? Alpha,
    int? Steps,
    float ScoreBefore,
    float? ScoreAfter,
    bool? Flipped,
    double? SmallestFlippingEpsilon,
    double? NotFlippedUpTo,
    double? Tolerance,
    float[][]? AdversarialWindow);

/// <summary>A rejected input line.</summary>
internal sealed record RejectedLine(string? Id, int Line, string Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ExplanationLine))]
[JsonSerializable(typeof(RejectedLine))]
internal sealed partial class ExplainJsonContext : JsonSerializerContext;

/// <summary>Channel-major arrays as JSON likes them: one row per channel.</summary>
internal static class ChannelRows
{
    /// <summary>Splits <paramref name="values"/> (channel c, step t at c * length + t) into <paramref name="rows"/> rows.</summary>
    public static float[][] Of(float[] values, int rows, int length)
        => Enumerable.Range(0, rows).Select(r => values.AsSpan(r * length, length).ToArray()).ToArray();
}
