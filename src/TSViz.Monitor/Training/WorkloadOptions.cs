using System.CommandLine;

namespace TSViz.Monitor.Training;

/// <summary>Options that `train` and `export` share.</summary>
internal static class WorkloadOptions
{
    public static Option<WorkloadKind> Workload() => new("--workload")
    {
        Description = "Which reference model: anomaly (the 3-channel anomaly detector) or traffic (the internet traffic forecaster).",
        Required = true,
    };

    public static Option<int> Seed() => new("--seed")
    {
        Description = "Seed of the data set, the weight initialisation and the shuffling.",
        DefaultValueFactory = _ => 1,
    };

    public static Option<string> TrafficData() => new("--data")
    {
        Description = "The internet traffic CSV (traffic workload only).",
        DefaultValueFactory = _ => ReferenceWorkload.DefaultTrafficData,
    };

    public static Option<string?> Checkpoint() => new("--checkpoint")
    {
        Description = "TorchSharp checkpoint (default: artifacts/<model>.ckpt).",
    };
}
