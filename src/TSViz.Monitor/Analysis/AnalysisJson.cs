using System.Text.Json.Serialization;
using TSViz.Explain.Clustering;
using TSViz.Explain.Pruning;

namespace TSViz.Monitor.Analysis;

internal sealed record SilhouetteJson(int K, double Score);

internal sealed record LayerClusteringJson(
    string Layer,
    string[] Filters,
    double[][] Distances,
    IReadOnlyList<Merge> Merges,
    IReadOnlyList<SilhouetteJson> Silhouette,
    int ChosenK,
    int[] Labels,
    int[] Representatives,
    float[] MeanInfluence);

internal sealed record ClusterResultJson(string Model, string ModelVersion, int Windows, string Distance, IReadOnlyList<LayerClusteringJson> Layers);

/// <summary>`prune --faithfulness`: the table, and the criterion ("influence" or "contribution") that chose least and most.</summary>
internal sealed record FaithfulnessJson(string Model, string ModelVersion, string Data, IReadOnlyList<FaithfulnessRow> Rows, string Criterion);

/// <summary>`prune --candidates`: dataset influence and contribution, and the candidates ranked by the criterion.</summary>
internal sealed record CandidatesJson(string Model, string ModelVersion, string Data, IReadOnlyList<LayerDatasetInfluence> Influence, IReadOnlyList<PruningCandidate> Candidates, string Criterion);

/// <summary>`prune --damage`: the unpruned metrics, per layer the Spearman figures and extremes, every filter's row.</summary>
internal sealed record DamageJson(string Model, string ModelVersion, string Data, EvaluationMetrics Baseline, IReadOnlyList<LayerDamage> Layers, IReadOnlyList<FilterDamageRow> Filters);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ClusterResultJson))]
[JsonSerializable(typeof(FaithfulnessJson))]
[JsonSerializable(typeof(CandidatesJson))]
[JsonSerializable(typeof(DamageJson))]
internal sealed partial class AnalysisJsonContext : JsonSerializerContext;
