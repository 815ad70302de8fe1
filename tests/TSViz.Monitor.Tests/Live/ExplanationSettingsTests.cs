using System.Globalization;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Hosting;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>A bad saliency method, faithfulness, counterfactual, pattern or drift setting stops start-up with a message naming the key and the value.</summary>
public sealed class ExplanationSettingsTests
{
    [Theory]
    [InlineData("Monitor:SaliencyMethod", "lime")]
    [InlineData("Monitor:Faithfulness:Fraction", "0.9")]
    [InlineData("Monitor:Faithfulness:Fraction", "0")]
    [InlineData("Monitor:Faithfulness:RandomDraws", "0")]
    [InlineData("Monitor:Faithfulness:MinMargin", "-0.5")]
    [InlineData("Monitor:Counterfactual:MaxCellFraction", "0.9")]
    [InlineData("Monitor:Counterfactual:PlausibleMads", "0")]
    [InlineData("Monitor:Counterfactual:Margin", "1")]
    [InlineData("Monitor:Counterfactual:MaxPending", "0")]
    [InlineData("Monitor:Counterfactual:Nice", "25")]
    [InlineData("Monitor:Jobs:PatternMinSimilarity", "1.5")]
    [InlineData("Monitor:Jobs:PatternDays", "0")]
    [InlineData("Monitor:Jobs:PatternMaxAlerts", "1")]
    [InlineData("Monitor:Jobs:PatternsCron", "0 61 2 * * ?")]
    [InlineData("Monitor:Drift:RollingWindows", "5")]
    [InlineData("Monitor:Drift:CusumLimit", "0")]
    [InlineData("Monitor:Drift:Margin", "0.5")]
    [InlineData("Monitor:Drift:ReferenceDays", "0")]
    [InlineData("Monitor:Drift:MinReferenceWindows", "100")]
    [InlineData("Monitor:Drift:MaxReferenceWindows", "10")]
    [InlineData("Monitor:Drift:PublishEveryWindows", "0")]
    [InlineData("Monitor:Jobs:DriftCron", "0 61 2 * * ?")]
    [InlineData("Monitor:Simulator:Drift:0", "m2:wobble:pressure=1@5")]
    public async Task Start_BadValue_StopsStartUpNamingTheKey(string key, string value)
    {
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{Loopback.FreePort().ToString(CultureInfo.InvariantCulture)}",
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
            [key] = value,
        });
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains(error.Failures, f => f.Contains(key, StringComparison.Ordinal) && f.Contains($"'{value}'", StringComparison.Ordinal));
    }
}
