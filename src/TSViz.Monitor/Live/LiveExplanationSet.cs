using TSViz.Explain;
using TSViz.Explain.Attribution;
using TSViz.Explain.Robustness;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>
/// The explanation methods the live path runs, from <c>Monitor:Explanations</c> (names of <see cref="ExplanationMethods"/>),
/// checked at start. Every window gets saliency (and influence, in the same backward pass) and fgsm; windows of an open
/// alert get flip-search and filter-saliency (of their most influential filters, so it needs influence). The on-request
/// methods (trace, inversion, iterative-fgsm) belong to the web view and the verbs, not to the live path.
/// </summary>
internal sealed record LiveExplanationSet(bool Influence, bool Fgsm, bool FlipSearch, bool FilterSaliency)
{
    /// <summary>The setting's key under <see cref="MonitorOptions.Section"/>.</summary>
    public const string Key = "Explanations";

    /// <summary>What the live path runs when the setting is absent: every live method, as before the setting existed.</summary>
    public static IReadOnlyList<string> Default { get; } =
        [InputSaliency.MethodName, FilterInfluence.MethodName, Explain.Robustness.Fgsm.MethodName, Explain.Robustness.FlipSearch.MethodName, PerFilterSaliency.MethodName];

    /// <summary>The names the live path accepts: <see cref="Default"/>, and the fused name for saliency with influence.</summary>
    public static IReadOnlyList<string> Live { get; } = [.. Default, SaliencyAndInfluence.MethodName];

    /// <summary>The set of <paramref name="names"/> (null or empty: <see cref="Default"/>).</summary>
    /// <exception cref="ArgumentException">The set is invalid; the message names the key and the offending name.</exception>
    public static LiveExplanationSet Parse(IReadOnlyCollection<string>? names)
        => TryParse(names, out var set, out string? problem) ? set : throw new ArgumentException($"{MonitorOptions.Section}:{Key} {problem}", nameof(names));

    /// <summary>
    /// Resolves <paramref name="names"/>; on failure <paramref name="problem"/> reads as the rest of a sentence that
    /// starts with the key (the options validator's form): what the key accepts, and the name that broke it.
    /// </summary>
    public static bool TryParse(IReadOnlyCollection<string>? names, out LiveExplanationSet set, out string? problem)
    {
        set = new LiveExplanationSet(false, false, false, false);
        var chosen = names is { Count: > 0 } ? names : Default;
        foreach (string name in chosen)
        {
            if (!ExplanationMethods.IsKnown(name))
            {
                problem = $"lists '{name}', which is no explanation method; the live path runs {string.Join(", ", Default)}";
                return false;
            }

            if (!Live.Contains(name))
            {
                problem = $"lists '{name}', which runs on request only (web view, verbs); the live path runs {string.Join(", ", Default)}";
                return false;
            }
        }

        bool saliency = chosen.Contains(InputSaliency.MethodName) || chosen.Contains(SaliencyAndInfluence.MethodName);
        bool influence = chosen.Contains(FilterInfluence.MethodName) || chosen.Contains(SaliencyAndInfluence.MethodName);
        bool filterSaliency = chosen.Contains(PerFilterSaliency.MethodName);
        if (!saliency)
        {
            problem = $"must include {InputSaliency.MethodName}: every explanation message carries the input saliency, channel contributions and top steps";
            return false;
        }

        if (filterSaliency && !influence)
        {
            problem = $"lists {PerFilterSaliency.MethodName} without {FilterInfluence.MethodName}: the filters whose saliency is computed are the most influential ones";
            return false;
        }

        set = new LiveExplanationSet(influence, chosen.Contains(Explain.Robustness.Fgsm.MethodName), chosen.Contains(Explain.Robustness.FlipSearch.MethodName), filterSaliency);
        problem = null;
        return true;
    }
}
