namespace TSViz.Explain.Data;

/// <summary>
/// Seeded uniform and normal draws. System.Random with a seed is stable across .NET versions, so a data set
/// drawn from a seed is the same on every machine; normals use the Box-Muller transform.
/// </summary>
public sealed class GaussianRandom
{
    private readonly Random random;
    private double? spare;

    /// <summary>A stream of draws fixed by <paramref name="seed"/>.</summary>
    public GaussianRandom(int seed) => random = new Random(seed);

    /// <summary>A draw from N(mean, sd^2).</summary>
    public double Normal(double mean = 0, double sd = 1)
    {
        if (spare is double cached)
        {
            spare = null;
            return mean + (sd * cached);
        }

        double u1 = 1.0 - random.NextDouble(); // (0, 1]: log is finite
        double u2 = random.NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        spare = radius * Math.Sin(2.0 * Math.PI * u2);
        return mean + (sd * radius * Math.Cos(2.0 * Math.PI * u2));
    }

    /// <summary>A uniform integer in [minInclusive, maxExclusive).</summary>
    public int Next(int minInclusive, int maxExclusive) => random.Next(minInclusive, maxExclusive);

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => random.NextDouble();

    /// <summary>Fisher-Yates permutation of 0..n-1.</summary>
    public int[] Permutation(int n)
    {
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }
}
