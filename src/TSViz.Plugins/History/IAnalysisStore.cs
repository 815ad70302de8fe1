namespace TSViz.Plugins.History;

/// <summary>What the nightly analysis reads (the stored input windows) and writes (its results).</summary>
public interface IAnalysisStore
{
    /// <summary>Input windows stored since <paramref name="since"/> (newest first, at most <paramref name="limit"/>), for the analysis jobs.</summary>
    Task<IReadOnlyList<StoredInput>> InputWindowsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken);

    /// <summary>Stores a job's result; returns it with its id.</summary>
    Task<AnalysisRecord> SaveAnalysisAsync(string job, string model, string modelVersion, DateTimeOffset at, int windows, string summaryJson, CancellationToken cancellationToken);

    /// <summary>Stored results, newest first (of one job when <paramref name="job"/> is given; <paramref name="limit"/> clamped to 1..1000).</summary>
    Task<IReadOnlyList<AnalysisRecord>> AnalysesAsync(string? job, int limit, CancellationToken cancellationToken);
}
