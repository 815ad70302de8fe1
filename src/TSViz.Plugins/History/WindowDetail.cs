namespace TSViz.Plugins.History;

/// <summary>
/// What is kept in full for some windows: the explanation as published (JSON) and the raw input window
/// (channel-major, before preprocessing) so an analysis can be rerun on it.
/// </summary>
/// <param name="ExplanationJson">The explanation message as published (UTF-8 JSON).</param>
/// <param name="Input">The input window, channel-major, as received.</param>
/// <param name="Channels">Channels of <paramref name="Input"/>.</param>
/// <param name="Length">Steps of <paramref name="Input"/>.</param>
public sealed record WindowDetail(byte[] ExplanationJson, float[] Input, int Channels, int Length);
