namespace TSViz.Plugins.History;

/// <summary>A filter among the most influential of a window.</summary>
/// <param name="Layer">The convolutional layer's name.</param>
/// <param name="Index">The filter's index in its layer.</param>
/// <param name="Influence">Its influence on the score (raw).</param>
/// <param name="InfluenceScaled">Its influence scaled 0-1 within its layer.</param>
public sealed record InfluentialFilter(string Layer, int Index, float Influence, float InfluenceScaled);
