using System.Diagnostics;
using TSViz.Explain;
using TSViz.Explain.Clustering;
using TSViz.Explain.Data;
using TSViz.Explain.Onnx;
using TSViz.Explain.Pruning;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// The analysis the nightly job runs on recent live windows, with the deployed model's own file: per conv layer the
/// filter clusters (as `cluster`: DTW of min-max scaled activations, complete linkage, silhouette-chosen k, each
/// cluster's most influential filter as representative), the dataset influence (Eq. 28, min/mean/max), the filters
/// never active, the ranked pruning candidates with cluster redundancy, and the faithfulness check of `prune
/// --faithfulness` (zero each layer's most and least influential filter, compare the loss); candidates and the
/// faithfulness filters are ranked by the configured criterion (Jobs:PruningCriterion: contribution or influence).
/// </summary>
internal static class ModelAnalysis
{
    /// <summary>A filter counts as a pruning candidate below this share of its layer's top mean (of the criterion) when redundant in its cluster, or when never active.</summary>
    public const float CandidateShare = 0.1f;

    public const int TopCandidates = 10;

    /// <summary>
    /// Runs the analysis on <paramref name="count"/> windows (channel-major, as received). Live windows have no
    /// labels, so the faithfulness check takes the deployed model's own decisions as targets: the loss is how far
    /// the model with a filter zeroed departs from the deployed model on the plant's own data, and "agreement" is
    /// the share of windows whose decision is unchanged.
    /// </summary>
    public static AnalysisSummary Run(OnnxModelFile file, float[] windows, int count, PruningCriterion criterion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(windows);
        long started = Stopwatch.GetTimestamp();
        // One thread: the live path keeps the other core. The deployed explainer is not thread-safe and the live
        // path uses it, so the job explains through its own explainer built from the same file.
        using var explainer = Explainer.FromFile(file, parallelism: 1);
        var influence = DatasetInfluence.Compute(explainer, windows, count);
        cancellationToken.ThrowIfCancellationRequested();
        var clustering = FilterClusterer.Cluster(explainer, windows, count);
        cancellationToken.ThrowIfCancellationRequested();
        var ranked = PruningCandidates.Rank(influence, clustering, criterion);

        var scores = explainer.Score(windows, count);
        double? threshold = file.Metadata.DecisionThreshold;
        var targets = threshold is double t ? scores.Select(s => s >= t ? 1f : 0f).ToArray() : scores;
        var faithfulness = Faithfulness.Run(file, influence, new WindowSet(windows, targets, file.Metadata.Channels.Count, file.Metadata.WindowLength), criterion);
        cancellationToken.ThrowIfCancellationRequested();

        var layers = influence.Select(layer =>
        {
            var clusters = clustering.First(c => c.Layer == layer.Layer);
            var byFilter = ranked.Where(c => c.Layer == layer.Layer).ToList();
            return new LayerSummary(
                layer.Layer,
                layer.Mean.Length,
                clusters.ChosenK,
                clusters.SilhouetteByK.Length > 0 ? Finite(clusters.SilhouetteByK.Max()) : null,
                Enumerable.Range(0, clusters.ChosenK).Select(k => clusters.Labels.Count(l => l == k)).ToArray(),
                clusters.Representatives,
                Enumerable.Range(0, layer.NeverActive.Length).Where(f => layer.NeverActive[f]).ToArray(),
                byFilter.Count(c => IsCandidate(c, criterion)),
                layer.Mean,
                layer.Min,
                layer.Max)
            {
                Labels = clusters.Labels,
                SilhouetteByK = [.. clusters.SilhouetteByK.Select(Finite)],
                MeanContribution = layer.MeanContribution,
            };
        }).ToList();

        var candidates = ranked.Take(TopCandidates).Select(c =>
        {
            var layer = influence.First(l => l.Layer == c.Layer);
            return new CandidateSummary(c.Layer, c.Filter, c.MeanInfluence, c.ScaledInfluence, layer.Min[c.Filter], layer.Max[c.Filter], c.NeverActive, c.Cluster, c.RedundantWith)
            {
                MeanContribution = c.MeanContribution,
                ScaledContribution = c.ScaledContribution,
            };
        }).ToList();

        var rows = faithfulness.Select(r => new FaithfulnessSummary(r.Layer, r.Which, r.Filter, r.MeanInfluence,
            Finite(r.After.Primary), r.After.Accuracy is double a ? Finite(a) : null, Finite(r.PercentChange))
        {
            MeanContribution = r.MeanContribution,
        }).ToList();
        return new AnalysisSummary(
            file.Metadata.Name, file.Metadata.Version, count,
            threshold is null ? "the deployed model's own outputs (MSE)" : "the deployed model's own decisions (binary cross-entropy; agreement = share of unchanged decisions)",
            Stopwatch.GetElapsedTime(started).TotalSeconds, layers, candidates, rows)
        {
            PruningCriterion = criterion.Name(),
        };
    }

    /// <summary>Never active, or nearly without influence (or contribution) while its cluster has a more influential representative.</summary>
    public static bool IsCandidate(PruningCandidate candidate, PruningCriterion criterion)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return candidate.NeverActive || (candidate.RedundantWith is not null && candidate.ScaledBy(criterion) < CandidateShare);
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
