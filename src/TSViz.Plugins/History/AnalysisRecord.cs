namespace TSViz.Plugins.History;

/// <summary>A stored result of a nightly analysis job.</summary>
/// <param name="Id">The store's id, increasing.</param>
/// <param name="Job">The job that produced it (analysis).</param>
/// <param name="Model">The model's name.</param>
/// <param name="ModelVersion">The model's version.</param>
/// <param name="At">When the run started (milliseconds).</param>
/// <param name="Windows">How many stored windows it analysed.</param>
/// <param name="SummaryJson">The result as JSON.</param>
public sealed record AnalysisRecord(long Id, string Job, string Model, string ModelVersion, DateTimeOffset At, int Windows, string SummaryJson);

/// <summary>A stored input window (for the analysis jobs).</summary>
/// <param name="WindowId">The window's id.</param>
/// <param name="Machine">Its machine.</param>
/// <param name="WindowEnd">The time of its last sample.</param>
/// <param name="Score">Its score (null for insufficient data).</param>
/// <param name="Input">The input, channel-major, as received.</param>
/// <param name="Channels">Channels of <paramref name="Input"/>.</param>
/// <param name="Length">Steps of <paramref name="Input"/>.</param>
public sealed record StoredInput(string WindowId, string Machine, DateTimeOffset WindowEnd, float? Score, float[] Input, int Channels, int Length);
