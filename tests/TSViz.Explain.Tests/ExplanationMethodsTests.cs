using TSViz.Tests.Shared;

namespace TSViz.Explain.Tests;

public sealed class ExplanationMethodsTests
{
    [Fact]
    public void Names_ListEveryMethodOnce()
    {
        Assert.Equal(
            "saliency, influence, saliency-influence, filter-saliency, trace, fgsm, iterative-fgsm, flip-search, counterfactual, inversion",
            string.Join(", ", ExplanationMethods.Names));
    }

    [Fact]
    public void Create_EveryName_GivesAMethodOfThatName()
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1);
        foreach (string name in ExplanationMethods.Names)
        {
            Assert.True(ExplanationMethods.IsKnown(name));
            Assert.Equal(name, ExplanationMethods.Create(name, explainer).Name);
        }
    }

    [Theory]
    [InlineData("gradcam")]
    [InlineData("Saliency")]
    [InlineData("")]
    public void Create_UnknownName_IsRefusedNamingItAndTheMethods(string name)
    {
        using var explainer = Explainer.Load(RepositoryPaths.AnomalyModel, parallelism: 1);
        Assert.False(ExplanationMethods.IsKnown(name));
        var error = Assert.Throws<ArgumentException>(() => ExplanationMethods.Create(name, explainer));
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(string.Join(", ", ExplanationMethods.Names), error.Message, StringComparison.Ordinal);
    }
}
