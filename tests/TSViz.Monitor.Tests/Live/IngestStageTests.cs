using TSViz.Monitor.Live;
using TSViz.Plugins.Ingest;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

public sealed class IngestStageTests
{
    [Fact]
    public void ReasonCode_EveryRejectionReason_IsSnakeCaseAndDocumentedInTheReadme()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        Assert.Equal("malformed_json", IngestStage.ReasonCode(RejectionReason.MalformedJson));
        foreach (var reason in Enum.GetValues<RejectionReason>())
        {
            string code = IngestStage.ReasonCode(reason);
            Assert.Matches("^[a-z]+(_[a-z]+)*$", code);
            Assert.Contains($"`{code}`", readme, StringComparison.Ordinal);
        }
    }
}
