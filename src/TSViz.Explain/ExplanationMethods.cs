using TSViz.Explain.Attribution;
using TSViz.Explain.Counterfactuals;
using TSViz.Explain.Inversion;
using TSViz.Explain.Robustness;

namespace TSViz.Explain;

/// <summary>
/// The registry of explanation methods by name: what a configuration may list, and how each is created on an
/// <see cref="Explainer"/>. A new method is one class implementing <see cref="IExplanationMethod{TOptions, TResult}"/>
/// (or <see cref="IModelExplanationMethod{TOptions, TResult}"/>) and one line here.
/// </summary>
public static class ExplanationMethods
{
    private static readonly (string Name, Func<Explainer, IExplanationMethod> Create)[] Registered =
    [
        (InputSaliency.MethodName, e => new InputSaliency(e)),
        (FilterInfluence.MethodName, e => new FilterInfluence(e)),
        (SaliencyAndInfluence.MethodName, e => new SaliencyAndInfluence(e)),
        (PerFilterSaliency.MethodName, e => new PerFilterSaliency(e)),
        (ActivationTrace.MethodName, e => new ActivationTrace(e)),
        (Fgsm.MethodName, e => new Fgsm(e)),
        (IterativeFgsm.MethodName, e => new IterativeFgsm(e)),
        (FlipSearch.MethodName, e => new FlipSearch(e)),
        (SparseCounterfactual.MethodName, e => new SparseCounterfactual(e)),
        (InverseOptimization.MethodName, e => new InverseOptimization(e)),
    ];

    /// <summary>Every registered name, attribution methods first, then robustness and the counterfactual, then the model-level inversion.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Registered.Select(r => r.Name)];

    /// <summary>Whether <paramref name="name"/> is a registered method (names compare exactly: lower case).</summary>
    public static bool IsKnown(string name) => Registered.Any(r => r.Name == name);

    /// <summary>The method called <paramref name="name"/>, running on <paramref name="explainer"/>.</summary>
    /// <exception cref="ArgumentException">No method has that name; the message lists the names there are.</exception>
    public static IExplanationMethod Create(string name, Explainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        foreach (var (known, create) in Registered)
        {
            if (known == name)
            {
                return create(explainer);
            }
        }

        throw new ArgumentException($"No explanation method is called '{name}'; the methods are {string.Join(", ", Names)}.", nameof(name));
    }
}
