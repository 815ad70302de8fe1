namespace TSViz.Plugins.History;

/// <summary>A filter among the most influential of a window: layer, index in the layer, influence (raw and scaled 0-1).</summary>
public sealed record FilterRef(string Layer, int Index, float Influence, float InfluenceScaled);
