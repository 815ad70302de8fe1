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

internal sealed record FaithfulnessJson(string Model, string ModelVersion, string Data, IReadOnlyList<FaithfulnessRow> Rows);

internal sealed record CandidatesJson(string Model, string ModelVersion, string Data, IReadOnlyList<LayerDatasetInfluence> Influence, IReadOnlyList<PruningCandidate> Candidates);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ClusterResultJson))]
[JsonSerializable(typeof(FaithfulnessJson))]
[JsonSerializable(typeof(CandidatesJson))]
internal sealed partial class AnalysisJsonContext : JsonSerializerContext;
