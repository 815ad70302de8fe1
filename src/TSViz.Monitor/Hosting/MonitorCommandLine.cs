using System.CommandLine;
using TSViz.Monitor.Analysis;
using TSViz.Monitor.Benchmarking;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Live;
using TSViz.Monitor.Training;

namespace TSViz.Monitor.Hosting;

/// <summary>The verbs of the monitor executable. Only verbs that work are listed.</summary>
internal static class MonitorCommandLine
{
    public static RootCommand Build(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("TSViz Monitor: explained anomaly detection for industrial sensor streams. Without a verb: run.")
        {
            RunVerb.Create(error),
            SimulateVerb.Create(error),
            TrainVerb.Create(output, error),
            ExportVerb.Create(output, error),
            ExplainVerb.Create(output, error),
            ClusterVerb.Create(output, error),
            PruneVerb.Create(output, error),
            EvaluateVerb.Create(output, error),
            BenchVerb.Create(output, error),
            Jobs.JobsVerb.Create(output, error),
            History.HistoryVerb.Create(output, error),
            Security.KeysVerb.Create(output, error),
            MqttSecurity.MqttUserVerb.Create(output, error),
        };
        root.SetAction((_, cancellationToken) => RunVerb.RunAsync(error, cancellationToken));
        return root;
    }
}
