namespace TSViz.Explain.Clustering;

/// <summary>
/// One merge of the dendrogram, numbered as SciPy does: items are 0..n-1, the cluster formed by merge i is n + i.
/// </summary>
/// <param name="Left">The first cluster merged: an item (below n) or an earlier merge's cluster (n + i).</param>
/// <param name="Right">The second cluster merged, numbered as <paramref name="Left"/>.</param>
/// <param name="Height">The complete-linkage distance at which they merged: the largest distance between their members.</param>
/// <param name="Size">How many items the merged cluster holds.</param>
public sealed record Merge(int Left, int Right, double Height, int Size);

/// <summary>
/// Agglomerative clustering with complete linkage (Eq. 22): the distance of two clusters is the largest distance
/// between their members; the closest pair merges until one cluster is left. The whole dendrogram is kept so
/// that any number of clusters can be cut from it later.
/// </summary>
public static class AgglomerativeClustering
{
    /// <summary>The n - 1 merges of the dendrogram of n items, in merge order (ascending height).</summary>
    /// <param name="distances">Symmetric n x n distances with a zero diagonal.</param>
    public static IReadOnlyList<Merge> CompleteLinkage(double[,] distances)
    {
        ArgumentNullException.ThrowIfNull(distances);
        int n = distances.GetLength(0);
        if (n != distances.GetLength(1))
        {
            throw new ArgumentException("The distance matrix must be square.", nameof(distances));
        }

        // Active clusters: id -> members; linkage between active clusters kept in a dictionary of pairs.
        var members = new Dictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            members[i] = [i];
        }

        var linkage = new Dictionary<(int, int), double>();
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                linkage[(i, j)] = distances[i, j];
            }
        }

        var merges = new List<Merge>(Math.Max(0, n - 1));
        int next = n;
        while (members.Count > 1)
        {
            var best = (A: -1, B: -1);
            double bestDistance = double.PositiveInfinity;
            foreach (var ((a, b), d) in linkage)
            {
                // Ties go to the pair with the smallest ids, so results do not depend on dictionary order.
                if (d < bestDistance || (d == bestDistance && (a < best.A || (a == best.A && b < best.B))))
                {
                    bestDistance = d;
                    best = (a, b);
                }
            }

            var merged = members[best.A].Concat(members[best.B]).ToList();
            members.Remove(best.A);
            members.Remove(best.B);
            var others = members.Keys.ToList();
            foreach (int other in others)
            {
                double d = Math.Max(Get(linkage, best.A, other), Get(linkage, best.B, other));
                linkage[(other, next)] = d;
            }

            foreach (var key in linkage.Keys.Where(k => k.Item1 == best.A || k.Item2 == best.A || k.Item1 == best.B || k.Item2 == best.B).ToList())
            {
                linkage.Remove(key);
            }

            members[next] = merged;
            merges.Add(new Merge(best.A, best.B, bestDistance, merged.Count));
            next++;
        }

        return merges;
    }

    /// <summary>Labels 0..k-1 for <paramref name="k"/> clusters, cut from the dendrogram (labels in order of first member).</summary>
    public static int[] Cut(IReadOnlyList<Merge> merges, int n, int k)
    {
        ArgumentNullException.ThrowIfNull(merges);
        if (k < 1 || k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"Between 1 and {n} clusters can be cut.");
        }

        var parent = Enumerable.Range(0, n + merges.Count).ToArray();
        int Find(int x)
        {
            while (parent[x] != x)
            {
                x = parent[x] = parent[parent[x]];
            }

            return x;
        }

        for (int i = 0; i < n - k; i++)
        {
            var m = merges[i];
            parent[Find(m.Left)] = n + i;
            parent[Find(m.Right)] = n + i;
        }

        var labels = new int[n];
        var names = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            int root = Find(i);
            if (!names.TryGetValue(root, out int label))
            {
                label = names.Count;
                names[root] = label;
            }

            labels[i] = label;
        }

        return labels;
    }

    private static double Get(Dictionary<(int, int), double> linkage, int a, int b)
        => linkage.TryGetValue(a < b ? (a, b) : (b, a), out double d) ? d : double.NaN;
}
