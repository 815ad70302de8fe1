namespace TSViz.Explain.Attribution;

/// <summary>One point of a lower level that produced the traced activation: a channel (input) or filter (conv layer) and a step.</summary>
/// <param name="Row">Channel of the model input, or filter of a conv layer.</param>
/// <param name="Step">Time step of that row.</param>
/// <param name="Weight">|d a / d point|, scaled so that the level's largest is 1.</param>
public sealed record TracedPoint(int Row, int Step, float Weight);

/// <summary>The points of one level (the model input, or a conv layer below the traced one) that produced the activation.</summary>
/// <param name="Level">"input" or the conv layer's name.</param>
/// <param name="Rows">Channels of the input, or filters of the layer.</param>
/// <param name="Length">Steps of each row.</param>
/// <param name="Points">The responsible points, by row then step.</param>
public sealed record TraceLevel(string Level, int Rows, int Length, TracedPoint[] Points);

/// <summary>Recursive highlighting of one activation: its value, and per level below it the points that produced it (nearest level first, the input last).</summary>
/// <param name="Layer">The conv layer of the traced activation.</param>
/// <param name="Filter">The traced filter of that layer.</param>
/// <param name="Step">The traced time step of the filter's activation.</param>
/// <param name="Activation">The activation a_j(t) itself.</param>
/// <param name="Levels">Every lower conv layer on the path to it, nearest first, then the model input.</param>
public sealed record ActivationTraceResult(string Layer, int Filter, int Step, float Activation, IReadOnlyList<TraceLevel> Levels);
