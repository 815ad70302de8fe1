namespace TSViz.Plugins.History;

/// <summary>A stored result of a nightly analysis job.</summary>
public sealed record AnalysisRecord(long Id, string Job, string Model, string ModelVersion, DateTimeOffset At, int Windows, string SummaryJson);

/// <summary>A stored input window (for the analysis jobs).</summary>
public sealed record StoredInput(string WindowId, string Machine, DateTimeOffset WindowEnd, float? Score, float[] Input, int Channels, int Length);
