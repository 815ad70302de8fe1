using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Tests.Live;

public sealed class LiveExplanationSetTests
{
    [Fact]
    public void Parse_Unset_RunsEveryLiveMethodAsBefore()
    {
        Assert.Equal(new LiveExplanationSet(Influence: true, Fgsm: true, FlipSearch: true, FilterSaliency: true), LiveExplanationSet.Parse(null));
        Assert.Equal(LiveExplanationSet.Parse(null), LiveExplanationSet.Parse([]));
        Assert.Equal(LiveExplanationSet.Parse(null), LiveExplanationSet.Parse(["saliency", "influence", "fgsm", "flip-search", "filter-saliency"]));
    }

    [Fact]
    public void Parse_SaliencyAlone_LeavesTheRestOut()
        => Assert.Equal(new LiveExplanationSet(false, false, false, false), LiveExplanationSet.Parse(["saliency"]));

    [Fact]
    public void Parse_FusedName_IsSaliencyWithInfluence()
        => Assert.Equal(new LiveExplanationSet(true, true, false, false), LiveExplanationSet.Parse(["saliency-influence", "fgsm"]));

    [Theory]
    [InlineData("gradcam", "which is no explanation method")]
    [InlineData("Fgsm", "which is no explanation method")]
    [InlineData("trace", "which runs on request only")]
    [InlineData("inversion", "which runs on request only")]
    [InlineData("iterative-fgsm", "which runs on request only")]
    public void Parse_NameTheLivePathCannotRun_IsRefusedNamingTheKeyAndTheName(string name, string why)
    {
        var error = Assert.Throws<ArgumentException>(() => LiveExplanationSet.Parse(["saliency", name]));
        Assert.StartsWith("Monitor:Explanations lists '" + name + "', " + why, error.Message, StringComparison.Ordinal);
        Assert.Contains("the live path runs saliency, influence, fgsm, flip-search, filter-saliency", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WithoutSaliency_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => LiveExplanationSet.Parse(["influence", "fgsm"]));
        Assert.StartsWith("Monitor:Explanations must include saliency", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FilterSaliencyWithoutInfluence_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => LiveExplanationSet.Parse(["saliency", "filter-saliency"]));
        Assert.StartsWith("Monitor:Explanations lists filter-saliency without influence", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownName_StopsTheStartNamingTheKeyAndTheName()
    {
        var options = new MonitorOptions { Explanations = ["saliency", "influence", "shap"] };
        var result = MonitorHost.ValidateOptions(options);
        Assert.True(result.Failed);
        Assert.Contains("Monitor:Explanations lists 'shap', which is no explanation method", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(MonitorHost.ValidateOptions(new MonitorOptions { Explanations = ["saliency", "fgsm"] }).Succeeded);
    }
}
