using TSViz.Explain.Attribution;
using TSViz.Explain.Clustering;

namespace TSViz.Explain.Pruning;

/// <summary>
/// A layer's filters over a data set (Eq. 28): influence per filter averaged over the windows, with its minimum
/// and maximum (Fig. 9), the same for the filter's contribution |sum_t a_j(t) dy/da_j(t)|, and whether the filter was
/// ever active (its activation positive somewhere).
/// </summary>
/// <param name="Layer">The conv layer's name.</param>
/// <param name="Mean">Per filter, its influence (Eq. 16) averaged over the windows (Eq. 28).</param>
/// <param name="Min">Per filter, its smallest influence on any window.</param>
/// <param name="Max">Per filter, its largest influence on any window.</param>
/// <param name="NeverActive">Per filter, whether its activation was never positive on any window.</param>
/// <param name="Windows">How many windows were averaged over.</param>
public sealed record LayerDatasetInfluence(string Layer, float[] Mean, float[] Min, float[] Max, bool[] NeverActive, int Windows)
{
    /// <summary>Per filter, its contribution |sum_t a_j(t) dy/da_j(t)| averaged over the windows (as Eq. 28 averages the influence).</summary>
    public float[] MeanContribution { get; init; } = [];

    /// <summary>Per filter, its smallest contribution on any window.</summary>
    public float[] MinContribution { get; init; } = [];

    /// <summary>Per filter, its largest contribution on any window.</summary>
    public float[] MaxContribution { get; init; } = [];

    /// <summary>Per filter, the mean over windows and time steps of |a_j(t)|: how large its output is.</summary>
    public float[] MeanActivation { get; init; } = [];

    /// <summary>Per filter, the dataset mean that <paramref name="criterion"/> ranks by.</summary>
    public float[] MeanBy(PruningCriterion criterion) => criterion == PruningCriterion.Contribution ? MeanContribution : Mean;
}

/// <summary>
/// Computes <see cref="LayerDatasetInfluence"/> for every conv layer from a set of windows: the influence and the
/// contribution of every filter come from the same backward pass per batch.
/// </summary>
public static class DatasetInfluence
{
    private const int Batch = 512;

    /// <summary>Every conv layer's dataset influence over <paramref name="count"/> windows given as received.</summary>
    public static IReadOnlyList<LayerDatasetInfluence> Compute(Explainer explainer, ReadOnlySpan<float> windows, int count)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        var layers = explainer.Layers;
        int size = explainer.Metadata.Channels.Count * explainer.Metadata.WindowLength;
        var sum = layers.Select(l => new double[l.Filters]).ToArray();
        var min = layers.Select(l => Enumerable.Repeat(float.PositiveInfinity, l.Filters).ToArray()).ToArray();
        var max = layers.Select(l => Enumerable.Repeat(float.NegativeInfinity, l.Filters).ToArray()).ToArray();
        var active = layers.Select(l => new bool[l.Filters]).ToArray();
        var contributionSum = layers.Select(l => new double[l.Filters]).ToArray();
        var contributionMin = layers.Select(l => Enumerable.Repeat(float.PositiveInfinity, l.Filters).ToArray()).ToArray();
        var contributionMax = layers.Select(l => Enumerable.Repeat(float.NegativeInfinity, l.Filters).ToArray()).ToArray();
        var activationSum = layers.Select(l => new double[l.Filters]).ToArray();
        for (int start = 0; start < count; start += Batch)
        {
            int n = Math.Min(Batch, count - start);
            var explanations = explainer.Explain(windows.Slice(start * size, n * size), n,
                new ExplainOptions { IncludeActivations = true, IncludeContribution = true, IncludeReceivedSaliency = false, TopSteps = 0 });
            foreach (var e in explanations)
            {
                for (int l = 0; l < layers.Count; l++)
                {
                    var result = e.Layers[l];
                    int length = layers[l].OutputLength;
                    for (int f = 0; f < layers[l].Filters; f++)
                    {
                        float v = result.Influence[f];
                        sum[l][f] += v;
                        min[l][f] = Math.Min(min[l][f], v);
                        max[l][f] = Math.Max(max[l][f], v);
                        float c = result.Contribution![f];
                        contributionSum[l][f] += c;
                        contributionMin[l][f] = Math.Min(contributionMin[l][f], c);
                        contributionMax[l][f] = Math.Max(contributionMax[l][f], c);
                        double magnitude = 0;
                        foreach (float a in result.Activations!.AsSpan(f * length, length))
                        {
                            magnitude += Math.Abs(a);
                            active[l][f] |= a > 0;
                        }

                        activationSum[l][f] += magnitude / length;
                    }
                }
            }
        }

        return layers.Select((layer, l) => new LayerDatasetInfluence(
            layer.Name, sum[l].Select(s => (float)(s / count)).ToArray(), min[l], max[l], active[l].Select(a => !a).ToArray(), count)
        {
            MeanContribution = contributionSum[l].Select(s => (float)(s / count)).ToArray(),
            MinContribution = contributionMin[l],
            MaxContribution = contributionMax[l],
            MeanActivation = activationSum[l].Select(s => (float)(s / count)).ToArray(),
        }).ToList();
    }
}

/// <summary>A filter proposed for pruning, least influential (or contributing) first.</summary>
/// <param name="Layer">The conv layer's name.</param>
/// <param name="Filter">The filter's index in the layer.</param>
/// <param name="MeanInfluence">Its dataset influence (Eq. 28), unscaled.</param>
/// <param name="NeverActive">Its activation was never positive on the data set.</param>
/// <param name="ScaledInfluence">Mean influence divided by the layer's largest mean influence (layers differ in scale).</param>
/// <param name="Cluster">Its cluster in the layer, when a clustering was given.</param>
/// <param name="RedundantWith">The more influential representative of its cluster it duplicates, if any.</param>
public sealed record PruningCandidate(string Layer, int Filter, float MeanInfluence, float ScaledInfluence, bool NeverActive, int? Cluster, int? RedundantWith)
{
    /// <summary>Its dataset contribution (mean of |sum_t a_j(t) dy/da_j(t)|), unscaled.</summary>
    public float MeanContribution { get; init; }

    /// <summary>Mean contribution divided by the layer's largest mean contribution.</summary>
    public float ScaledContribution { get; init; }

    /// <summary>The layer-scaled figure <paramref name="criterion"/> ranks by.</summary>
    public float ScaledBy(PruningCriterion criterion) => criterion == PruningCriterion.Contribution ? ScaledContribution : ScaledInfluence;
}

/// <summary>Ranks every filter for pruning: least layer-scaled mean influence or contribution first; cluster redundancy noted.</summary>
public static class PruningCandidates
{
    /// <summary>
    /// Every filter of <paramref name="influence"/>, least layer-scaled mean first under <paramref name="criterion"/>;
    /// with a clustering, each notes the representative it duplicates.
    /// </summary>
    public static IReadOnlyList<PruningCandidate> Rank(
        IReadOnlyList<LayerDatasetInfluence> influence, IReadOnlyList<LayerClustering>? clustering = null, PruningCriterion criterion = PruningCriteria.Default)
    {
        ArgumentNullException.ThrowIfNull(influence);
        var candidates = new List<PruningCandidate>();
        foreach (var layer in influence)
        {
            float top = layer.Mean.Max();
            float topContribution = layer.MeanContribution.Length > 0 ? layer.MeanContribution.Max() : 0;
            var clusters = clustering?.FirstOrDefault(c => c.Layer == layer.Layer);
            for (int f = 0; f < layer.Mean.Length; f++)
            {
                int? cluster = clusters?.Labels[f];
                int? representative = cluster is int c ? clusters!.Representatives[c] : null;
                float contribution = layer.MeanContribution.Length > 0 ? layer.MeanContribution[f] : 0;
                candidates.Add(new PruningCandidate(
                    layer.Layer, f, layer.Mean[f], top > 0 ? layer.Mean[f] / top : 0, layer.NeverActive[f], cluster,
                    representative is int r && r != f ? r : null)
                {
                    MeanContribution = contribution,
                    ScaledContribution = topContribution > 0 ? contribution / topContribution : 0,
                });
            }
        }

        return candidates.OrderBy(c => c.ScaledBy(criterion)).ThenBy(c => c.Layer, StringComparer.Ordinal).ThenBy(c => c.Filter).ToList();
    }
}
