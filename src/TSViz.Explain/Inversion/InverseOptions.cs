namespace TSViz.Explain.Inversion;

/// <summary>Inverse optimisation (Eq. 24-25). Paper: alpha 0.01, 1000 steps; the reference code starts from N(0, 0.25).</summary>
public sealed record InverseOptions
{
    /// <summary>The output to reach: a probability for a probability model, a value otherwise.</summary>
    public double Target { get; init; } = 1.0;

    /// <summary>Gradient steps x_{t+1} = x_t - alpha dL/dx_t (Eq. 25); the paper takes 1000.</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>The step size alpha of Eq. 25; the paper's is 0.01.</summary>
    public double Alpha { get; init; } = 0.01;

    /// <summary>Seed of the random starts: the same seed and model give the same result.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Standard deviation of the random start x_0 ~ N(0, sd^2).</summary>
    public double InitialSd { get; init; } = 0.25;

    /// <summary>Independent random starts, optimised together.</summary>
    public int Starts { get; init; } = 1;
}
