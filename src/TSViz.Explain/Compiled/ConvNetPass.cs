using System.Numerics;
using System.Runtime.InteropServices;

namespace TSViz.Explain.Compiled;

/// <summary>
/// One thread's forward and backward pass of a <see cref="CompiledConvNet"/> over a block of up to
/// <see cref="Block"/> windows. Every buffer is laid out channel x time x window, windows innermost, so each
/// operator is a vector loop across the block and each convolution one <see cref="PackedGemm"/> product. The
/// buffers are native, aligned and allocated once; padding regions stay zero for the workspace's lifetime.
/// </summary>
internal sealed unsafe class ConvNetPass : IDisposable
{
    /// <summary>Windows per block: the vector lanes of every loop (a multiple of the widest vector, 16 floats).</summary>
    public const int Block = 16;

    private readonly CompiledConvNet net;
    private readonly StageBuffers[] stages;
    private readonly float* flat;
    private readonly float* denseGradient;
    private readonly float* logits;
    private readonly int flatSize;
    private readonly List<nint> owned = [];

    public ConvNetPass(CompiledConvNet net)
    {
        this.net = net;
        stages = new StageBuffers[net.Stages.Count];
        for (int s = 0; s < stages.Length; s++)
        {
            var stage = net.Stages[s];
            int inRow = stage.PaddedLength * Block;
            int gradientRow = (stage.ConvLength + (2 * (stage.Kernel - 1))) * Block;
            var forwardOffsets = new int[stage.InChannels * stage.Kernel];
            var backwardOffsets = new int[stage.Filters * stage.Kernel];
            for (int c = 0; c < stage.InChannels; c++)
            {
                for (int k = 0; k < stage.Kernel; k++)
                {
                    forwardOffsets[(c * stage.Kernel) + k] = (c * inRow) + (k * Block);
                }
            }

            for (int f = 0; f < stage.Filters; f++)
            {
                for (int k = 0; k < stage.Kernel; k++)
                {
                    backwardOffsets[(f * stage.Kernel) + k] = (f * gradientRow) + ((stage.Kernel - 1 - k) * Block);
                }
            }

            int k3 = stage.Kernel;
            var w = stage.Weight;
            stages[s] = new StageBuffers
            {
                Input = Allocate(PackedGemm.PaddedRows(stage.InChannels) * inRow),
                InputRow = inRow,
                Activation = Allocate(PackedGemm.PaddedRows(stage.Filters) * stage.ConvLength * Block),
                Gradient = Allocate(stage.Filters * gradientRow),
                GradientRow = gradientRow,
                InputGradient = Allocate(PackedGemm.PaddedRows(stage.InChannels) * inRow),
                Forward = Copy(PackedGemm.Pack((r, d) => w[(r * stage.InChannels * k3) + d], stage.Filters, stage.InChannels * k3)),
                Backward = Copy(PackedGemm.Pack((r, d) => w[((d / k3) * stage.InChannels * k3) + (r * k3) + (d % k3)], stage.InChannels, stage.Filters * k3)),
                Bias = Copy([.. stage.Bias, .. new float[PackedGemm.PaddedRows(stage.Filters) - stage.Filters]]),
                ForwardOffsets = Copy(forwardOffsets),
                BackwardOffsets = Copy(backwardOffsets),
            };
        }

        var last = net.Stages[^1];
        flatSize = last.Filters * last.OutLength;
        flat = Allocate(flatSize * Block);
        denseGradient = Allocate(flatSize * Block);
        logits = Allocate(Block);
    }

    /// <summary>Windows in the current block.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Runs the network on windows [first, first + count) of <paramref name="modelInput"/> (already preprocessed,
    /// windows x channels x length). Unused lanes get zeros.
    /// </summary>
    public void Forward(ReadOnlySpan<float> modelInput, int first, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Block);
        Count = count;
        int channels = net.Channels, length = net.Length, size = channels * length;
        var s0 = stages[0];
        int begin = net.Stages[0].PadBegin * Block;
        for (int c = 0; c < channels; c++)
        {
            float* row = s0.Input + (c * s0.InputRow) + begin;
            for (int b = 0; b < Block; b++)
            {
                if (b < count)
                {
                    var window = modelInput.Slice(((first + b) * size) + (c * length), length);
                    for (int t = 0; t < length; t++)
                    {
                        row[(t * Block) + b] = window[t];
                    }
                }
                else
                {
                    for (int t = 0; t < length; t++)
                    {
                        row[(t * Block) + b] = 0f;
                    }
                }
            }
        }

        RunForward();
    }

    /// <summary>The block's logits (the Gemm's output) after <see cref="Forward"/>.</summary>
    public ReadOnlySpan<float> Logits => new(logits, Count);

    /// <summary>The score of lane <paramref name="lane"/>: the sigmoid of the logit, or the logit without a Sigmoid.</summary>
    public float Score(int lane) => net.Sigmoid ? SigmoidOf(logits[lane]) : logits[lane];

    /// <summary>The logistic function, in float as libtorch evaluates it.</summary>
    public static float SigmoidOf(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>
    /// Back-propagates d(quantity)/d(logit) per lane (<paramref name="seed"/>) through the block of the last
    /// <see cref="Forward"/>: afterwards <see cref="InputGradient"/> reads the result.
    /// With <paramref name="toInput"/> false the pass stops at the first layer's activation. <paramref name="atLayer"/>
    /// is called with each stage's index while its activation's gradient is readable (<see cref="LayerGradientSums"/>).
    /// </summary>
    public void Backward(ReadOnlySpan<float> seed, bool toInput = true, Action<int>? atLayer = null)
    {
        DenseBackward(seed);
        BackwardFrom(stages.Length - 1, seeded: false, toInput, atLayer);
    }

    /// <summary>
    /// Back-propagates d(sum_t a_j(t))/d(.) for filter <paramref name="filter"/> of layer <paramref name="stage"/> (its
    /// per-filter saliency, Eq. 11-13) through the block of the last <see cref="Forward"/> to the input.
    /// </summary>
    public void FilterBackward(int stage, int filter)
    {
        var layer = net.Stages[stage];
        var buffers = stages[stage];
        int columns = layer.ConvLength * Block;
        for (int f = 0; f < layer.Filters; f++)
        {
            new Span<float>(buffers.Gradient + (f * buffers.GradientRow) + ((layer.Kernel - 1) * Block), columns).Fill(f == filter ? 1f : 0f);
        }

        BackwardFrom(stage, seeded: true, toInput: true, atLayer: null);
    }

    private void DenseBackward(ReadOnlySpan<float> seed)
    {
        var weight = net.DenseWeight;
        for (int f = 0; f < flatSize; f++)
        {
            float w = weight[f];
            float* row = denseGradient + (f * Block);
            for (int b = 0; b < Block; b++)
            {
                row[b] = b < seed.Length ? w * seed[b] : 0f;
            }
        }
    }

    /// <summary>The backward pass from stage <paramref name="top"/> down; a seeded top stage already holds its activation's gradient.</summary>
    private void BackwardFrom(int top, bool seeded, bool toInput, Action<int>? atLayer)
    {
        for (int s = top; s >= 0; s--)
        {
            var stage = net.Stages[s];
            var buffers = stages[s];
            float* upstream;
            int upstreamRow;
            if (s == stages.Length - 1)
            {
                upstream = denseGradient;
                upstreamRow = stage.OutLength * Block;
            }
            else
            {
                upstream = stages[s + 1].InputGradient + (net.Stages[s + 1].PadBegin * Block);
                upstreamRow = stages[s + 1].InputRow;
            }

            if (!seeded || s != top)
            {
                Unpool(stage, buffers, upstream, upstreamRow);
            }

            atLayer?.Invoke(s);
            if (s > 0 || toInput)
            {
                ActivationBackward(stage, buffers);
                PackedGemm.Multiply(buffers.Backward, PackedGemm.PaddedRows(stage.InChannels), stage.Filters * stage.Kernel, buffers.Gradient,
                    buffers.BackwardOffsets, stage.PaddedLength * Block, buffers.InputGradient, buffers.InputRow, null);
            }
        }
    }

    /// <summary>
    /// Layer <paramref name="stage"/>'s filter influence sum_t |dy/da_j(t)| and, when asked, contribution
    /// |sum_t a_j(t) dy/da_j(t)| of each lane, written at [(first + lane) * filters + j]. Only valid inside
    /// <see cref="Backward"/>'s callback for that stage.
    /// </summary>
    public void LayerGradientSums(int stage, Span<float> influence, Span<float> contribution, int first)
    {
        var layer = net.Stages[stage];
        var buffers = stages[stage];
        int length = layer.ConvLength;
        Span<float> absolute = stackalloc float[Block];
        Span<float> product = stackalloc float[Block];
        for (int f = 0; f < layer.Filters; f++)
        {
            absolute.Clear();
            product.Clear();
            float* gradient = buffers.Gradient + (f * buffers.GradientRow) + ((layer.Kernel - 1) * Block);
            float* activation = buffers.Activation + (f * length * Block);
            for (int t = 0; t < length; t++)
            {
                for (int b = 0; b < Block; b++)
                {
                    float g = gradient[(t * Block) + b];
                    absolute[b] += MathF.Abs(g);
                    product[b] += activation[(t * Block) + b] * g;
                }
            }

            for (int b = 0; b < Count; b++)
            {
                influence[((first + b) * layer.Filters) + f] = absolute[b];
                if (!contribution.IsEmpty)
                {
                    contribution[((first + b) * layer.Filters) + f] = MathF.Abs(product[b]);
                }
            }
        }
    }

    /// <summary>The gradient with respect to the model input of every lane, written as windows x channels x length from <paramref name="first"/>.</summary>
    public void InputGradient(Span<float> destination, int first)
    {
        var s0 = stages[0];
        int channels = net.Channels, length = net.Length, size = channels * length;
        int begin = net.Stages[0].PadBegin * Block;
        for (int c = 0; c < channels; c++)
        {
            float* row = s0.InputGradient + (c * s0.InputRow) + begin;
            for (int b = 0; b < Count; b++)
            {
                var window = destination.Slice(((first + b) * size) + (c * length), length);
                for (int t = 0; t < length; t++)
                {
                    window[t] = row[(t * Block) + b];
                }
            }
        }
    }

    /// <summary>Layer <paramref name="stage"/>'s activations of every lane, written as windows x filters x steps from <paramref name="first"/>.</summary>
    public void Activations(int stage, Span<float> destination, int first)
    {
        var layer = net.Stages[stage];
        int length = layer.ConvLength, size = layer.Filters * length;
        for (int f = 0; f < layer.Filters; f++)
        {
            float* row = stages[stage].Activation + (f * length * Block);
            for (int b = 0; b < Count; b++)
            {
                var own = destination.Slice(((first + b) * size) + (f * length), length);
                for (int t = 0; t < length; t++)
                {
                    own[t] = row[(t * Block) + b];
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var pointer in owned)
        {
            NativeMemory.AlignedFree((void*)pointer);
        }

        owned.Clear();
    }

    private void RunForward()
    {
        for (int s = 0; s < stages.Length; s++)
        {
            var stage = net.Stages[s];
            var buffers = stages[s];
            int columns = stage.ConvLength * Block;
            PackedGemm.Multiply(buffers.Forward, PackedGemm.PaddedRows(stage.Filters), stage.InChannels * stage.Kernel, buffers.Input,
                buffers.ForwardOffsets, columns, buffers.Activation, columns, buffers.Bias);
            if (stage.Activated)
            {
                Activate(buffers.Activation, stage.Filters * columns, stage.Slope);
            }

            float* output;
            int outputRow;
            if (s == stages.Length - 1)
            {
                output = flat;
                outputRow = stage.OutLength * Block;
            }
            else
            {
                output = stages[s + 1].Input + (net.Stages[s + 1].PadBegin * Block);
                outputRow = stages[s + 1].InputRow;
            }

            Pool(stage, buffers.Activation, output, outputRow);
        }

        Dense();
    }

    private static void Activate(float* values, int count, float slope)
    {
        var scale = new Vector<float>(slope);
        int w = Vector<float>.Count;
        for (int i = 0; i < count; i += w)
        {
            var v = Vector.Load(values + i);
            Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<float>.Zero), v, v * scale).Store(values + i);
        }
    }

    private static void Pool(ConvStage stage, float* activation, float* output, int outputRow)
    {
        int w = Vector<float>.Count;
        int convRow = stage.ConvLength * Block;
        for (int f = 0; f < stage.Filters; f++)
        {
            float* source = activation + (f * convRow);
            float* target = output + (f * outputRow);
            for (int t = 0; t < stage.OutLength; t++)
            {
                for (int b = 0; b < Block; b += w)
                {
                    var best = Vector.Load(source + (t * stage.Pool * Block) + b);
                    for (int j = 1; j < stage.Pool; j++)
                    {
                        // Strictly greater, or NaN: the first maximum wins and a NaN propagates, as in libtorch (and so
                        // does its gradient).
                        var next = Vector.Load(source + (((t * stage.Pool) + j) * Block) + b);
                        best = Vector.ConditionalSelect(Takes(next, best), next, best);
                    }

                    best.Store(target + (t * Block) + b);
                }
            }
        }
    }

    private void Dense()
    {
        var weight = net.DenseWeight;
        int w = Vector<float>.Count;
        for (int b = 0; b < Block; b += w)
        {
            var sum = Vector<float>.Zero;
            for (int f = 0; f < flatSize; f++)
            {
                sum = Vector.FusedMultiplyAdd(new Vector<float>(weight[f]), Vector.Load(flat + (f * Block) + b), sum);
            }

            (sum + new Vector<float>(net.DenseBias)).Store(logits + b);
        }
    }

    /// <summary>dy/da of the layer's activation from dy/d(pooled output): each pooled step's gradient goes to its first maximum.</summary>
    private static void Unpool(ConvStage stage, StageBuffers buffers, float* upstream, int upstreamRow)
    {
        int w = Vector<float>.Count;
        int length = stage.ConvLength;
        for (int f = 0; f < stage.Filters; f++)
        {
            float* activation = buffers.Activation + (f * length * Block);
            float* gradient = buffers.Gradient + (f * buffers.GradientRow) + ((stage.Kernel - 1) * Block);
            float* source = upstream + (f * upstreamRow);
            for (int t = 0; t < stage.OutLength; t++)
            {
                for (int b = 0; b < Block; b += w)
                {
                    var g = Vector.Load(source + (t * Block) + b);
                    if (stage.Pool == 1)
                    {
                        g.Store(gradient + (t * Block) + b);
                        continue;
                    }

                    int start = t * stage.Pool * Block;
                    var best = Vector.Load(activation + start + b);
                    var chosen = Vector<int>.Zero;
                    for (int j = 1; j < stage.Pool; j++)
                    {
                        var next = Vector.Load(activation + start + (j * Block) + b);
                        var greater = Takes(next, best);
                        best = Vector.ConditionalSelect(greater, next, best);
                        chosen = Vector.ConditionalSelect(greater, new Vector<int>(j), chosen);
                    }

                    for (int j = 0; j < stage.Pool; j++)
                    {
                        Vector.ConditionalSelect(Vector.Equals(chosen, new Vector<int>(j)), g, Vector<float>.Zero)
                            .Store(gradient + start + (j * Block) + b);
                    }
                }
            }

            // Steps past the last whole pooling window reach no output.
            for (int t = stage.OutLength * stage.Pool; t < length; t++)
            {
                new Span<float>(gradient + (t * Block), Block).Clear();
            }
        }
    }

    /// <summary>Where a pooling window's next value replaces the best so far: greater, or NaN (libtorch's rule).</summary>
    private static Vector<int> Takes(Vector<float> next, Vector<float> best)
        => Vector.GreaterThan(next, best) | Vector.OnesComplement(Vector.Equals(next, next));

    private static void ActivationBackward(ConvStage stage, StageBuffers buffers)
    {
        if (!stage.Activated)
        {
            return;
        }

        int w = Vector<float>.Count;
        int columns = stage.ConvLength * Block;
        var slope = new Vector<float>(stage.Slope);
        for (int f = 0; f < stage.Filters; f++)
        {
            float* activation = buffers.Activation + (f * columns);
            float* gradient = buffers.Gradient + (f * buffers.GradientRow) + ((stage.Kernel - 1) * Block);
            for (int i = 0; i < columns; i += w)
            {
                var g = Vector.Load(gradient + i);
                var positive = Vector.GreaterThan(Vector.Load(activation + i), Vector<float>.Zero);
                Vector.ConditionalSelect(positive, g, g * slope).Store(gradient + i);
            }
        }
    }

    private float* Allocate(int floats)
    {
        var pointer = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, floats) * sizeof(float)), 64);
        NativeMemory.Clear(pointer, (nuint)(Math.Max(1, floats) * sizeof(float)));
        owned.Add((nint)pointer);
        return pointer;
    }

    private float* Copy(float[] values)
    {
        var pointer = Allocate(values.Length);
        values.CopyTo(new Span<float>(pointer, values.Length));
        return pointer;
    }

    private int* Copy(int[] values)
    {
        var pointer = (int*)Allocate(values.Length);
        values.CopyTo(new Span<int>(pointer, values.Length));
        return pointer;
    }

    private sealed class StageBuffers
    {
        public float* Input;
        public int InputRow;
        public float* Activation;
        public float* Gradient;
        public int GradientRow;
        public float* InputGradient;
        public float* Forward;
        public float* Backward;
        public float* Bias;
        public int* ForwardOffsets;
        public int* BackwardOffsets;
    }
}
