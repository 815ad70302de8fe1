namespace TSViz.Tests.Shared;

/// <summary>Paths of the repository the tests run from (found by walking up to TSViz.slnx).</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TSViz.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"No TSViz.slnx above {AppContext.BaseDirectory}.");
    });

    public static string Root => RootPath.Value;

    public static string AnomalyModel => Path.Combine(Root, "models", "anomaly-cnn.onnx");

    public static string TrafficModel => Path.Combine(Root, "models", "traffic-cnn.onnx");

    public static string TrafficData => Path.Combine(Root, "data", "internet-traffic-b5m.csv");

    /// <summary>A fresh empty folder under the system temp folder.</summary>
    public static string NewTempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "tsviz-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
