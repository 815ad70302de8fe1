using TSViz.Explain.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TSViz.Explain.Models;

/// <summary>
/// The reference CNN as a TorchSharp module. <see cref="forward"/> returns the pre-sigmoid output (the logit
/// for a probability model, the value for a forecaster), so training can use the numerically stable loss and
/// explanations can take gradients of the logit (Proposition 1). Parameters are named conv1.weight ...
/// fc.bias, the same names the ONNX export gives its initializers.
/// </summary>
public sealed class ConvNet1d : nn.Module<Tensor, Tensor>
{
    private readonly List<Conv1d> convs = [];
    private readonly Linear fc;

    /// <summary>Held with the module: a slope converted implicitly at each call could be freed during it (see HeldScalars).</summary>
    private readonly Scalar leakySlope;

    /// <summary>A freshly initialised network of the shape <paramref name="spec"/> describes.</summary>
    public ConvNet1d(ConvNetSpec spec) : base(nameof(ConvNet1d))
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        leakySlope = spec.LeakySlope.ToScalar();
        int channels = spec.InputChannels;
        for (int i = 0; i < spec.Blocks.Count; i++)
        {
            var conv = nn.Conv1d(channels, spec.Blocks[i].Filters, spec.Blocks[i].KernelSize);
            register_module(ConvName(i), conv);
            convs.Add(conv);
            channels = spec.Blocks[i].Filters;
        }

        fc = nn.Linear(spec.DenseInputs, 1);
        register_module(DenseName, fc);
    }

    /// <summary>Module name of the dense output layer (its parameters are fc.weight and fc.bias).</summary>
    public const string DenseName = "fc";

    /// <summary>The shape the network was built with.</summary>
    public ConvNetSpec Spec { get; }

    /// <summary>Name of conv block <paramref name="index"/> (0-based): conv1, conv2, ...</summary>
    public static string ConvName(int index) => $"conv{index + 1}";

    /// <summary>The pre-sigmoid output [N, 1] for windows [N, channels, length] (model input space).</summary>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        Tensor x = input;
        for (int i = 0; i < convs.Count; i++)
        {
            x = convs[i].forward(x).leaky_relu(leakySlope);
            int pool = Spec.Blocks[i].PoolSize;
            if (pool > 1)
            {
                x = nn.functional.max_pool1d(x, pool);
            }
        }

        x = x.flatten(1);
        return fc.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>The model's output as deployed: sigmoid of the logit for probabilities, the value otherwise.</summary>
    public Tensor Predict(Tensor input)
    {
        var raw = forward(input);
        if (Spec.Output != OutputKind.Probability)
        {
            return raw;
        }

        using (raw)
        {
            return raw.sigmoid();
        }
    }

    /// <summary>Copies parameters from name -> values (channel-major, as ONNX stores them).</summary>
    public void LoadParameters(IReadOnlyDictionary<string, float[]> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (!values.TryGetValue(name, out var data))
            {
                throw new KeyNotFoundException($"No values for parameter '{name}'; have: {string.Join(", ", values.Keys)}.");
            }

            if (data.Length != parameter.numel())
            {
                throw new ArgumentException($"Parameter '{name}' has {parameter.numel()} values, got {data.Length}.", nameof(values));
            }

            using var source = tensor(data, parameter.shape);
            parameter.copy_(source);
        }
    }

    /// <summary>Parameters as name -> (shape, values), in registration order.</summary>
    public IReadOnlyList<(string Name, long[] Shape, float[] Values)> ExportParameters()
    {
        var result = new List<(string, long[], float[])>();
        foreach (var (name, parameter) in named_parameters())
        {
            using var detached = parameter.detach().contiguous();
            result.Add((name, parameter.shape, detached.ToFloatArray()));
        }

        return result;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            leakySlope.Dispose();
        }

        base.Dispose(disposing);
    }
}
