using TSViz.Monitor.Tests.Cli;

namespace TSViz.Monitor.Tests.Benchmarking;

/// <summary>`bench --live --capacity-step`: checked before anything (broker, monitor) is started.</summary>
public sealed class BenchCapacityOptionTests
{
    [Theory]
    [InlineData("--capacity-step", "-5000")]
    [InlineData("--capacity-step", "5000", "--soak-minutes", "1")]
    [InlineData("--capacity-step", "5000", "--nodes", "1,2")]
    public async Task Bench_LiveWithACapacityStepItCannotTake_ExitCode2NamingTheOption(params string[] options)
    {
        var (exit, _, error) = await VerbRunner.Run(["bench", "--live", .. options]);

        Assert.Equal(2, exit);
        Assert.Contains("--capacity-step", error, StringComparison.Ordinal);
    }
}
