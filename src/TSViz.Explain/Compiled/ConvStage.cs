namespace TSViz.Explain.Compiled;

/// <summary>One conv block of a compiled network: Conv1d (stride 1, dilation 1, one group), an optional ReLU or
/// LeakyReLU, and an optional max-pooling whose stride equals its width.</summary>
/// <param name="Name">The layer's name, as <see cref="Graph.ModelLayer.Name"/>.</param>
/// <param name="InChannels">Input channels.</param>
/// <param name="InLength">Input steps (before padding).</param>
/// <param name="Filters">Output channels.</param>
/// <param name="Kernel">Kernel width.</param>
/// <param name="PadBegin">Zero steps before the input.</param>
/// <param name="PadEnd">Zero steps after the input.</param>
/// <param name="Weight">The file's weights, [filters][in channels][kernel].</param>
/// <param name="Bias">The file's bias per filter, or zeros.</param>
/// <param name="Slope">The activation's slope below zero: the LeakyReLU's alpha, 0 for ReLU, 1 without activation.</param>
/// <param name="Pool">Max-pooling width and stride; 1 without pooling.</param>
internal sealed record ConvStage(
    string Name, int InChannels, int InLength, int Filters, int Kernel, int PadBegin, int PadEnd, float[] Weight, float[] Bias, float Slope, int Pool)
{
    /// <summary>Steps of the padded input.</summary>
    public int PaddedLength => PadBegin + InLength + PadEnd;

    /// <summary>Steps of the convolution's output (and of the layer's activation).</summary>
    public int ConvLength => PaddedLength - Kernel + 1;

    /// <summary>Steps after pooling (floor, as ONNX's ceil_mode 0).</summary>
    public int OutLength => ConvLength / Pool;

    /// <summary>Whether an activation follows the convolution.</summary>
    public bool Activated => Slope != 1f;
}
