namespace TSViz.Explain.Models;

/// <summary>What the model's single output means.</summary>
public enum OutputKind
{
    /// <summary>A probability from a sigmoid over a logit; the anomaly detector.</summary>
    Probability,

    /// <summary>A real value; the forecaster.</summary>
    Value,
}

/// <summary>One convolution block: Conv1d (no padding, stride 1), LeakyReLU, then optional max-pooling.</summary>
/// <param name="Filters">Output channels of the convolution.</param>
/// <param name="KernelSize">Kernel width in steps.</param>
/// <param name="PoolSize">Max-pooling width and stride after the activation; 0 or 1: no pooling.</param>
public sealed record ConvBlockSpec(int Filters, int KernelSize, int PoolSize);

/// <summary>
/// The reference 1-D CNN family of the TSViz paper: conv blocks, flatten, one dense output; a sigmoid on top
/// for probabilities.
/// </summary>
/// <param name="InputChannels">Channels of a window.</param>
/// <param name="WindowLength">Steps of a window.</param>
/// <param name="Blocks">The conv blocks, input side first.</param>
/// <param name="LeakySlope">Negative slope of every LeakyReLU (0.3 in the reference).</param>
/// <param name="Output">What the single output means; a probability gets a sigmoid.</param>
public sealed record ConvNetSpec(
    int InputChannels,
    int WindowLength,
    IReadOnlyList<ConvBlockSpec> Blocks,
    double LeakySlope,
    OutputKind Output)
{
    /// <summary>REFERENCE.md section 2: 3 -> 16 -> 32 -> 64 filters, kernel 3, pooling after the first two.</summary>
    public static ConvNetSpec AnomalyReference { get; } = new(
        3, 50, [new(16, 3, 2), new(32, 3, 2), new(64, 3, 0)], 0.3, OutputKind.Probability);

    /// <summary>The paper's forecaster: three conv layers, two max-pooling layers, one dense layer; two channels.</summary>
    public static ConvNetSpec TrafficReference { get; } = new(
        2, 50, [new(16, 3, 2), new(32, 3, 2), new(64, 3, 0)], 0.3, OutputKind.Value);

    /// <summary>Length of each block's output (after pooling), in order.</summary>
    public IReadOnlyList<int> BlockOutputLengths
    {
        get
        {
            var lengths = new List<int>(Blocks.Count);
            int length = WindowLength;
            foreach (var block in Blocks)
            {
                length = length - block.KernelSize + 1;
                if (block.PoolSize > 1)
                {
                    length /= block.PoolSize;
                }

                if (length < 1)
                {
                    throw new InvalidOperationException($"Window length {WindowLength} is too short for the blocks {string.Join(", ", Blocks)}.");
                }

                lengths.Add(length);
            }

            return lengths;
        }
    }

    /// <summary>Inputs of the dense layer: last block's filters times its output length.</summary>
    public int DenseInputs => Blocks[^1].Filters * BlockOutputLengths[^1];

    /// <summary>Total number of conv filters (112 for the reference anomaly model).</summary>
    public int TotalFilters => Blocks.Sum(b => b.Filters);
}
