using System.Text.Json.Serialization;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// One conv layer in an analysis: clusters at the chosen k (each filter's cluster in <c>Labels</c>, the silhouette
/// score of every k from 2 in <c>SilhouetteByK</c>), dead filters, candidates, and every filter's dataset influence.
/// </summary>
internal sealed record LayerSummary(
    string Layer,
    int Filters,
    int K,
    double? Silhouette,
    int[] ClusterSizes,
    int[] Representatives,
    int[] DeadFilters,
    int PruningCandidates,
    float[] MeanInfluence,
    float[] MinInfluence,
    float[] MaxInfluence)
{
    /// <summary>Cluster of each filter at the chosen k (absent in analyses stored before it was kept).</summary>
    public int[]? Labels { get; init; }

    /// <summary>Silhouette score for k = 2, 3, ... (index 0 is k = 2); null where it is not finite.</summary>
    public double?[]? SilhouetteByK { get; init; }

    /// <summary>Every filter's dataset contribution, mean of |sum_t a_j(t) dy/da_j(t)| (absent in analyses stored before it was kept).</summary>
    public float[]? MeanContribution { get; init; }
}

/// <summary>A ranked pruning candidate (least layer-scaled influence, or contribution, first: the analysis's criterion).</summary>
internal sealed record CandidateSummary(string Layer, int Filter, float MeanInfluence, float ScaledInfluence, float MinInfluence, float MaxInfluence, bool NeverActive, int? Cluster, int? RedundantWith)
{
    /// <summary>Its dataset contribution (absent in analyses stored before it was kept).</summary>
    public float? MeanContribution { get; init; }

    /// <summary>Its dataset contribution divided by its layer's largest (absent in analyses stored before it was kept).</summary>
    public float? ScaledContribution { get; init; }
}

/// <summary>One row of the faithfulness check: the layer, which filter was zeroed ("none", "least", "most"), the loss after and its change.</summary>
internal sealed record FaithfulnessSummary(string Layer, string Which, int? Filter, float? MeanInfluence, double? Loss, double? Agreement, double? PercentChange)
{
    /// <summary>The zeroed filter's dataset contribution.</summary>
    public float? MeanContribution { get; init; }
}

/// <summary>What the analysis job stores (summary JSON of the analyses record).</summary>
internal sealed record AnalysisSummary(
    string Model,
    string ModelVersion,
    int Windows,
    string FaithfulnessTargets,
    double Seconds,
    IReadOnlyList<LayerSummary> Layers,
    IReadOnlyList<CandidateSummary> Candidates,
    IReadOnlyList<FaithfulnessSummary> Faithfulness)
{
    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    /// <summary>Stored windows left out because their shape is not the model's (another model's windows).</summary>
    public int OtherShapeWindows { get; init; }

    /// <summary>What ranked the candidates and chose the faithfulness filters: "influence" or "contribution" (absent in analyses stored before it was configurable: influence).</summary>
    public string? PruningCriterion { get; init; }
}

/// <summary>A layer in the MQTT summary.</summary>
internal sealed record LayerDigest(string Layer, int Filters, int K, double? Silhouette, int DeadFilters, int PruningCandidates, int[] Representatives);

/// <summary>One layer's faithfulness in the MQTT summary: loss change when its least and its most influential filter is zeroed (percent).</summary>
internal sealed record FaithfulnessDigest(string Layer, double? LeastPercentChange, double? MostPercentChange);

/// <summary>The compact summary published, retained, on {OutputPrefix}/model/{model}/analysis.</summary>
internal sealed record AnalysisDigest(
    string Model,
    string ModelVersion,
    DateTimeOffset At,
    long AnalysisId,
    int Windows,
    IReadOnlyList<LayerDigest> Layers,
    IReadOnlyList<string> TopCandidates,
    IReadOnlyList<FaithfulnessDigest> Faithfulness)
{
    /// <summary>What ranked the candidates and chose the faithfulness filters.</summary>
    public string? PruningCriterion { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AnalysisSummary))]
[JsonSerializable(typeof(AnalysisDigest))]
internal sealed partial class JobsJsonContext : JsonSerializerContext;
