using System.Text.RegularExpressions;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Plugins.Tests.History;

public sealed partial class FeedbackKindsTests
{
    [Fact]
    public void NameThenParse_EveryKind_RoundTrips()
    {
        foreach (var kind in Enum.GetValues<FeedbackKind>())
        {
            Assert.Equal(kind, FeedbackKinds.Parse(FeedbackKinds.Name(kind)));
        }

        Assert.Equal(Enum.GetValues<FeedbackKind>().Select(FeedbackKinds.Name), FeedbackKinds.Names);
        Assert.Equal(["acknowledge", "confirm", "false_alarm"], FeedbackKinds.Names);
    }

    [Theory]
    [InlineData("FalseAlarm")]
    [InlineData("Acknowledge")]
    [InlineData("false-alarm")]
    [InlineData("")]
    public void Parse_NameNotOnTheWire_IsRejected(string name)
        => Assert.Throws<ArgumentException>(() => FeedbackKinds.Parse(name));

    [Fact]
    public void Names_AreWhatTheFeedbackTableAccepts()
    {
        var check = FeedbackCheck().Match(SqliteHistorySchema.Sql);

        Assert.True(check.Success);
        Assert.Equal(FeedbackKinds.Names, check.Groups["names"].Value.Split(", ").Select(n => n.Trim('\'')));
    }

    [GeneratedRegex(@"kind TEXT NOT NULL CHECK \(kind IN \((?<names>[^)]*)\)\)")]
    private static partial Regex FeedbackCheck();
}
