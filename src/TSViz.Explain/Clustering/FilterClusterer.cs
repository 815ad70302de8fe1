using TSViz.Explain.Attribution;

namespace TSViz.Explain.Clustering;

/// <summary>The filters of one conv layer clustered by the DTW distance of their activations (TSViz IV-C).</summary>
/// <param name="Layer">Layer name.</param>
/// <param name="Filters">Filter names ("conv2/7").</param>
/// <param name="Distances">Pairwise distance: the DTW distance of the min-max scaled activations, averaged over the windows.</param>
/// <param name="Merges">The whole complete-linkage dendrogram.</param>
/// <param name="SilhouetteByK">Silhouette score for k = 2..n-1 (index 0 is k = 2).</param>
/// <param name="ChosenK">The k with the highest silhouette (n when the layer has fewer than 3 filters).</param>
/// <param name="Labels">Cluster of each filter at the chosen k.</param>
/// <param name="Representatives">Per cluster, its most influential filter (highest mean influence).</param>
/// <param name="MeanInfluence">Mean influence per filter over the windows (Eq. 28).</param>
public sealed record LayerClustering(
    string Layer,
    string[] Filters,
    double[][] Distances,
    IReadOnlyList<Merge> Merges,
    double[] SilhouetteByK,
    int ChosenK,
    int[] Labels,
    int[] Representatives,
    float[] MeanInfluence);

/// <summary>
/// Clusters every conv layer's filters. For a set of windows the distance of two filters is the mean over the
/// windows of their per-window DTW distance: DTW compares two activation sequences of one window (aligning in
/// time within it), so windows cannot be concatenated; the mean weighs every window alike and keeps the result a
/// symmetric dissimilarity with a zero diagonal.
/// </summary>
public static class FilterClusterer
{
    private const int Batch = 256;

    /// <summary>
    /// Clusters the filters of <paramref name="layers"/> (all when null or empty) over <paramref name="count"/> windows
    /// given as received; the silhouette picks each layer's k.
    /// </summary>
    public static IReadOnlyList<LayerClustering> Cluster(Explainer explainer, ReadOnlySpan<float> windows, int count, IReadOnlyCollection<string>? layers = null)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        var chosen = LayerSelection.Resolve(explainer.Layers, layers);
        int size = explainer.Metadata.Channels.Count * explainer.Metadata.WindowLength;
        var sums = chosen.Select(l => new double[l.Filters, l.Filters]).ToArray();
        var influence = chosen.Select(l => new double[l.Filters]).ToArray();
        var gate = new Lock();

        for (int start = 0; start < count; start += Batch)
        {
            int n = Math.Min(Batch, count - start);
            var explanations = explainer.Explain(windows.Slice(start * size, n * size), n, new ExplainOptions { IncludeActivations = true, IncludeReceivedSaliency = false, TopSteps = 0 });
            Parallel.For(0, n, () => chosen.Select(l => new double[l.Filters, l.Filters]).ToArray(), (w, _, local) =>
            {
                for (int c = 0; c < chosen.Count; c++)
                {
                    var layer = chosen[c];
                    var result = explanations[w].Layers[layer.Index];
                    AddWindow(result.Activations!, layer.Filters, layer.OutputLength, local[c]);
                }

                return local;
            }, local =>
            {
                lock (gate)
                {
                    for (int c = 0; c < chosen.Count; c++)
                    {
                        Accumulate(sums[c], local[c]);
                    }
                }
            });

            foreach (var e in explanations)
            {
                for (int c = 0; c < chosen.Count; c++)
                {
                    var own = e.Layers[chosen[c].Index].Influence;
                    for (int f = 0; f < own.Length; f++)
                    {
                        influence[c][f] += own[f];
                    }
                }
            }
        }

        var results = new List<LayerClustering>();
        for (int c = 0; c < chosen.Count; c++)
        {
            var layer = chosen[c];
            int f = layer.Filters;
            var distances = new double[f, f];
            for (int i = 0; i < f; i++)
            {
                for (int j = 0; j < f; j++)
                {
                    distances[i, j] = sums[c][i, j] / count;
                }
            }

            var meanInfluence = influence[c].Select(v => (float)(v / count)).ToArray();
            results.Add(ClusterLayer(layer.Name, distances, meanInfluence));
        }

        return results;
    }

    /// <summary>Clusters one layer from its distance matrix: dendrogram, silhouette over k = 2..n-1, labels and representatives.</summary>
    public static LayerClustering ClusterLayer(string layer, double[,] distances, float[] meanInfluence)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentNullException.ThrowIfNull(meanInfluence);
        int n = distances.GetLength(0);
        var merges = AgglomerativeClustering.CompleteLinkage(distances);
        var silhouettes = new double[Math.Max(0, n - 2)];
        for (int k = 2; k <= n - 1; k++)
        {
            silhouettes[k - 2] = Silhouette.Score(distances, AgglomerativeClustering.Cut(merges, n, k));
        }

        int chosenK = silhouettes.Length == 0 ? n : Array.IndexOf(silhouettes, silhouettes.Max()) + 2;
        var labels = AgglomerativeClustering.Cut(merges, n, chosenK);
        var representatives = Enumerable.Range(0, chosenK)
            .Select(cluster => Enumerable.Range(0, n).Where(i => labels[i] == cluster).OrderByDescending(i => meanInfluence[i]).ThenBy(i => i).First())
            .ToArray();
        var jagged = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Select(j => distances[i, j]).ToArray()).ToArray();
        return new LayerClustering(layer, Enumerable.Range(0, n).Select(i => $"{layer}/{i}").ToArray(), jagged, merges, silhouettes, chosenK, labels, representatives, meanInfluence);
    }

    private static void AddWindow(float[] activations, int filters, int length, double[,] sums)
    {
        var scaled = new float[filters * length];
        for (int f = 0; f < filters; f++)
        {
            FilterSelection.MinMaxScale(activations.AsSpan(f * length, length), scaled.AsSpan(f * length, length));
        }

        for (int i = 0; i < filters; i++)
        {
            for (int j = i + 1; j < filters; j++)
            {
                double d = Dtw.Distance(scaled.AsSpan(i * length, length), scaled.AsSpan(j * length, length));
                sums[i, j] += d;
                sums[j, i] += d;
            }
        }
    }

    private static void Accumulate(double[,] into, double[,] from)
    {
        for (int i = 0; i < into.GetLength(0); i++)
        {
            for (int j = 0; j < into.GetLength(1); j++)
            {
                into[i, j] += from[i, j];
            }
        }
    }
}
