namespace TSViz.Plugins.History;

/// <summary>
/// What is kept in full for some windows: the explanation as published (JSON) and the raw input window
/// (channel-major, before preprocessing) so an analysis can be rerun on it.
/// </summary>
public sealed record WindowDetail(byte[] ExplanationJson, float[] Input, int Channels, int Length);
