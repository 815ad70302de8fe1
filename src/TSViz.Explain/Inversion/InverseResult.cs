namespace TSViz.Explain.Inversion;

/// <summary>One optimised input (model input space, channel-major) with its score after every step (index 0: the start).</summary>
/// <param name="Initial">The random start x_0, channel-major.</param>
/// <param name="Optimised">The input after the last step, channel-major.</param>
/// <param name="ScoreTrajectory">The model's score at the start and after every step (steps + 1 values).</param>
/// <param name="Target">The output the optimisation aimed at.</param>
public sealed record InverseResult(float[] Initial, float[] Optimised, float[] ScoreTrajectory, double Target);
