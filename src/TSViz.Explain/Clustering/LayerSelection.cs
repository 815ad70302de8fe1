using TSViz.Explain.Graph;

namespace TSViz.Explain.Clustering;

/// <summary>Resolves layer names and filter indices given by a user, refusing unknown ones with what exists.</summary>
public static class LayerSelection
{
    /// <summary>The layers called <paramref name="names"/>, in the model's order; all of them when none is named.</summary>
    /// <exception cref="ArgumentException">A name is no conv layer of the model; the message lists the layers.</exception>
    public static IReadOnlyList<ModelLayer> Resolve(IReadOnlyList<ModelLayer> layers, IReadOnlyCollection<string>? names)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (names is null || names.Count == 0)
        {
            return layers;
        }

        var unknown = names.Where(n => layers.All(l => l.Name != n)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"No conv layer named {string.Join(", ", unknown.Select(u => $"'{u}'"))}; the model's layers are {Describe(layers)}.", nameof(names));
        }

        return layers.Where(l => names.Contains(l.Name)).ToList();
    }

    /// <summary>The layer called <paramref name="name"/>, after checking that it has filter <paramref name="filter"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The layer has no such filter.</exception>
    public static ModelLayer Filter(IReadOnlyList<ModelLayer> layers, string name, int filter)
    {
        var layer = Resolve(layers, [name])[0];
        if (filter < 0 || filter >= layer.Filters)
        {
            throw new ArgumentOutOfRangeException(nameof(filter), filter, $"Layer '{name}' has filters 0..{layer.Filters - 1}.");
        }

        return layer;
    }

    /// <summary>The layers with their filter ranges, for messages ("conv1 (16 filters, 0..15), ...").</summary>
    public static string Describe(IReadOnlyList<ModelLayer> layers) => string.Join(", ", layers.Select(l => $"{l.Name} ({l.Filters} filters, 0..{l.Filters - 1})"));
}
