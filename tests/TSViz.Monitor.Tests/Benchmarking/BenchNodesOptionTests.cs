using TSViz.Monitor.Benchmarking;
using TSViz.Monitor.Tests.Cli;

namespace TSViz.Monitor.Tests.Benchmarking;

/// <summary>`bench --live --nodes`: the node counts are parsed and checked before anything (broker, PostgreSQL, monitors) is started.</summary>
public sealed class BenchNodesOptionTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("9")]
    [InlineData("1,x")]
    [InlineData("-1")]
    [InlineData("")]
    public async Task Bench_LiveWithBadNodeCount_ExitCode2NamingTheOption(string nodes)
    {
        var (exit, _, error) = await VerbRunner.Run("bench", "--live", "--nodes", nodes);

        Assert.Equal(2, exit);
        Assert.Contains("--nodes", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_NodesWithoutLive_ExitCode2NamingTheOption()
    {
        var (exit, _, error) = await VerbRunner.Run("bench", "--nodes", "1");

        Assert.Equal(2, exit);
        Assert.Contains("--nodes needs --live", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseNodes_ListAndRepeatedOption_AllCountsInOrder()
        => Assert.Equal([1, 2, 3, 2], LiveBench.ParseNodes(["1, 2,3", "2"]));
}
