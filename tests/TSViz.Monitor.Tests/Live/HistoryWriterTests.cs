using TSViz.Monitor.Live;
using TSViz.Plugins.History;
using TSViz.Plugins.Windows;

namespace TSViz.Monitor.Tests.Live;

public sealed class HistoryWriterTests
{
    [Fact]
    public void Merge_CheckpointsAndEvictions_LastOperationPerMachineWins()
    {
        static WindowCheckpoint Checkpoint(string machine, int seconds)
            => new(machine, [DateTimeOffset.UnixEpoch.AddSeconds(seconds)], [1f, 2f, 3f], 1, 0);

        var merged = HistoryWriter.Merge(
        [
            new HistoryBatch { Windows = [new WindowRecord { Id = "w1", Machine = "a", ModelVersion = "v", WindowEnd = DateTimeOffset.UnixEpoch, ReasonCode = "normal" }], Checkpoints = [Checkpoint("a", 1), Checkpoint("b", 1)] },
            new HistoryBatch { RemovedCheckpoints = ["b"], Checkpoints = [Checkpoint("a", 2)] },
            new HistoryBatch { Windows = [new WindowRecord { Id = "w2", Machine = "c", ModelVersion = "v", WindowEnd = DateTimeOffset.UnixEpoch, ReasonCode = "normal" }], RemovedCheckpoints = ["c"] },
            new HistoryBatch { Checkpoints = [Checkpoint("c", 3)] },
        ]);

        Assert.Equal(["w1", "w2"], merged.Windows.Select(w => w.Id));
        Assert.Equal(["a", "c"], merged.Checkpoints.Select(c => c.Machine).Order());
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(2), merged.Checkpoints.Single(c => c.Machine == "a").Last);
        Assert.Equal(["b"], merged.RemovedCheckpoints);
    }
}
