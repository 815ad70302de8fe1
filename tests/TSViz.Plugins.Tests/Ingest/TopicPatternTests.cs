using TSViz.Plugins.Ingest;

namespace TSViz.Plugins.Tests.Ingest;

public sealed class TopicPatternTests
{
    [Fact]
    public void MachineOf_TwoLinesWithTheSameMachineName_AreTwoMachines()
    {
        var pattern = TopicPattern.Parse("plant/{line}/{machine}/telemetry");
        Assert.Equal("A/m2", pattern.MachineOf("plant/A/m2/telemetry"));
        Assert.Equal("B/m2", pattern.MachineOf("plant/B/m2/telemetry"));
        Assert.Equal(2, pattern.IdentityLevels);
        Assert.Equal("plant/+/+/telemetry", pattern.SubscriptionFilter);
    }

    [Fact]
    public void MachineOf_AnUnnamedPlus_IsPartOfTheIdToo()
    {
        // The pattern of earlier versions: its '+' level (the line) now tells machines apart as well.
        var pattern = TopicPattern.Parse("plant/+/{machine}/telemetry");
        Assert.Equal("A/m2", pattern.MachineOf("plant/A/m2/telemetry"));
        Assert.NotEqual(pattern.MachineOf("plant/A/m2/telemetry"), pattern.MachineOf("plant/B/m2/telemetry"));
    }

    [Theory]
    [InlineData("{machine}", "m2")]
    [InlineData("{line}/{machine}", "A/m2")]
    [InlineData("{machine}/{line}", "m2/A")]
    [InlineData("{site}/{line}/{machine}", "s1/A/m2")]
    public void MachineOf_WithATemplate_TakesTheNamedLevelsInItsOrder(string template, string expected)
        => Assert.Equal(expected, TopicPattern.Parse("{site}/{line}/{machine}/telemetry", template).MachineOf("s1/A/m2/telemetry"));

    [Theory]
    [InlineData("plant/A/m2/telemetry/x")]
    [InlineData("plant/A/m2")]
    [InlineData("plant//m2/telemetry")]
    [InlineData("plant/A//telemetry")]
    [InlineData("factory/A/m2/telemetry")]
    [InlineData("plant/A/m2/status")]
    [InlineData("plant/A/+/telemetry")]
    [InlineData("plant/A/m#/telemetry")]
    [InlineData("/plant/A/m2/telemetry")]
    public void MachineOf_ATopicOutsideThePattern_IsNull(string topic)
        => Assert.Null(TopicPattern.Parse("plant/{line}/{machine}/telemetry").MachineOf(topic));

    [Fact]
    public void MachineOf_ALevelThatIsNotWellFormedUnicode_IsNull()
        => Assert.Null(TopicPattern.Parse("plant/{line}/{machine}/telemetry").MachineOf("plant/A/m\uD800/telemetry"));

    [Theory]
    [InlineData("", null, "is empty")]
    [InlineData("plant/telemetry", null, "no wildcard level")]
    [InlineData("plant//{machine}", null, "empty level")]
    [InlineData("plant/#", null, "'#'")]
    [InlineData("plant/m+/{machine}", null, "'+'")]
    [InlineData("plant/{li ne}/{machine}", null, "not a placeholder")]
    [InlineData("plant/x{line}/{machine}", null, "not a placeholder")]
    [InlineData("plant/{machine}/{machine}", null, "twice")]
    [InlineData("plant/{line}/{machine}", "{cell}/{machine}", "'{cell}' is not a placeholder of the pattern (it has {line}, {machine})")]
    [InlineData("plant/{line}/{machine}", "line/{machine}", "'line' is not a placeholder")]
    [InlineData("plant/{line}/{machine}", "{machine}/{machine}", "uses {machine} twice")]
    public void TryParse_AWrongPatternOrTemplate_SaysWhat(string pattern, string? template, string expected)
    {
        Assert.Null(TopicPattern.TryParse(pattern, template, out string problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Topic_FillsThePlaceholders_AndMachineOfReadsThemBack()
    {
        var pattern = TopicPattern.Parse("plant/{line}/+/{machine}/telemetry");
        string topic = pattern.Topic(new Dictionary<string, string> { ["machine"] = "m1", ["line"] = "A" }, "x");
        Assert.Equal("plant/A/x/m1/telemetry", topic);
        Assert.Equal("A/x/m1", pattern.MachineOf(topic));
    }
}
