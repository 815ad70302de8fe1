using Onnx;
using TorchSharp;
using TSViz.Explain.Onnx;
using TSViz.Explain.Runtime;
using static TorchSharp.torch;

namespace TSViz.Explain.Graph;

/// <summary>
/// Compiles ONNX nodes into TorchSharp functions with ONNX's semantics (opset 7 and later). Attributes are read
/// once here, so running a node is only tensor work. Numeric attributes become Scalars here too, held by the graph
/// for its lifetime: a number converted implicitly at each call can be freed during the call (see <see cref="HeldScalars"/>).
/// </summary>
internal static class NodeKernels
{
    public static readonly IReadOnlyList<string> Supported =
    [
        "Conv", "Relu", "LeakyRelu", "Elu", "Tanh", "Sigmoid", "Softmax", "MaxPool", "AveragePool", "GlobalAveragePool",
        "BatchNormalization", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Gemm", "MatMul",
        "Add", "Sub", "Mul", "Div", "Identity", "Dropout", "Constant",
    ];

    /// <summary>Elementwise activations that may follow a conv and still belong to its layer.</summary>
    public static readonly IReadOnlySet<string> Activations = new HashSet<string> { "Relu", "LeakyRelu", "Elu", "Tanh", "Sigmoid" };

    /// <summary>The node's computation as a function of its input tensors (null for an absent optional input).</summary>
    /// <param name="node">The ONNX node.</param>
    /// <param name="opset">The model's default-domain opset (attributes moved to inputs in later opsets).</param>
    /// <param name="source">The model file, for messages.</param>
    /// <param name="held">Receives the Scalars the kernel uses; their owner disposes them once no kernel runs any more.</param>
    public static Func<Tensor?[], Tensor> Compile(NodeProto node, long opset, string source, ICollection<Scalar> held)
    {
        string label = node.Label();
        ModelFileException Refuse(string why) => new($"Model '{source}': node '{label}' ({node.OpType}) cannot be explained: {why}.");
        Scalar Hold(double value)
        {
            var scalar = value.ToScalar();
            held.Add(scalar);
            return scalar;
        }

        if (!string.IsNullOrEmpty(node.Domain) && node.Domain != "ai.onnx")
        {
            throw Refuse($"operator domain '{node.Domain}' is not supported");
        }

        switch (node.OpType)
        {
            case "Conv":
                return CompileConv(node, Refuse);
            case "Relu":
                return x => nn.functional.relu(x[0]!);
            case "LeakyRelu":
                {
                    var alpha = Hold(node.Float("alpha", 0.01f));
                    return x => x[0]!.leaky_relu(alpha);
                }

            case "Elu":
                {
                    // ONNX Elu has no scales: both are 1, as in torch.nn.functional.elu.
                    var alpha = Hold(node.Float("alpha", 1f));
                    var unitScale = Hold(1.0);
                    return x => x[0]!.elu(alpha, unitScale, unitScale);
                }

            case "Tanh":
                return x => x[0]!.tanh();
            case "Sigmoid":
                return x => x[0]!.sigmoid();
            case "Softmax":
                {
                    long axis = node.Int("axis", opset >= 13 ? -1 : 1);
                    if (opset >= 13)
                    {
                        return x => x[0]!.softmax(axis);
                    }

                    // Before opset 13, Softmax flattens to 2-D at axis and normalises each row.
                    return x =>
                    {
                        var input = x[0]!;
                        long a = axis < 0 ? axis + input.dim() : axis;
                        long rows = input.shape.Take((int)a).Aggregate(1L, (p, d) => p * d);
                        return input.reshape(rows, -1).softmax(1).reshape(input.shape);
                    };
                }

            case "MaxPool":
                return CompileMaxPool(node, Refuse);
            case "AveragePool":
                return CompileAveragePool(node, Refuse);
            case "GlobalAveragePool":
                return x => x[0]!.mean(Enumerable.Range(2, (int)x[0]!.dim() - 2).Select(i => (long)i).ToArray(), keepdim: true);
            case "BatchNormalization":
                {
                    if (node.Int("training_mode", 0) != 0)
                    {
                        throw Refuse("training_mode=1 (only inference BatchNormalization is supported)");
                    }

                    if (node.Output.Count > 1 && node.Output.Skip(1).Any(o => !string.IsNullOrEmpty(o)))
                    {
                        throw Refuse("running statistics outputs are requested (training mode)");
                    }

                    var epsilon = Hold(node.Float("epsilon", 1e-5f));
                    return x =>
                    {
                        var input = x[0]!;
                        long[] shape = [1, -1, .. Enumerable.Repeat(1L, (int)input.dim() - 2)];
                        var scale = x[1]!.reshape(shape);
                        var bias = x[2]!.reshape(shape);
                        var mean = x[3]!.reshape(shape);
                        var variance = x[4]!.reshape(shape);
                        return ((input.add(mean, HeldScalars.MinusOne)) / variance.add(epsilon, HeldScalars.One).sqrt() * scale).add(bias, HeldScalars.One);
                    };
                }

            case "Flatten":
                {
                    long axis = node.Int("axis", 1);
                    return x =>
                    {
                        var input = x[0]!;
                        long a = axis < 0 ? axis + input.dim() : axis;
                        long outer = input.shape.Take((int)a).Aggregate(1L, (p, d) => p * d);
                        return input.reshape(outer, -1);
                    };
                }

            case "Reshape":
                {
                    bool allowZero = node.Int("allowzero", 0) != 0;
                    return x =>
                    {
                        var input = x[0]!;
                        var requested = x[1]!.data<long>().ToArray();
                        for (int i = 0; i < requested.Length; i++)
                        {
                            if (requested[i] == 0 && !allowZero)
                            {
                                requested[i] = input.shape[i];
                            }
                        }

                        return input.reshape(requested);
                    };
                }

            case "Transpose":
                {
                    long[]? perm = node.Ints("perm");
                    return x => x[0]!.permute(perm ?? Enumerable.Range(0, (int)x[0]!.dim()).Reverse().Select(i => (long)i).ToArray());
                }

            case "Squeeze":
                {
                    long[]? attributeAxes = node.Ints("axes");
                    return x =>
                    {
                        var input = x[0]!;
                        long[]? axes = x.Length > 1 && x[1] is { } a ? a.data<long>().ToArray() : attributeAxes;
                        if (axes is null)
                        {
                            return input.squeeze();
                        }

                        var result = input;
                        foreach (long axis in axes.Select(a => a < 0 ? a + input.dim() : a).OrderByDescending(a => a))
                        {
                            result = result.squeeze(axis);
                        }

                        return result;
                    };
                }

            case "Unsqueeze":
                {
                    long[]? attributeAxes = node.Ints("axes");
                    return x =>
                    {
                        var input = x[0]!;
                        long[] axes = (x.Length > 1 && x[1] is { } a ? a.data<long>().ToArray() : attributeAxes)
                            ?? throw new InvalidOperationException($"Unsqueeze node '{label}' has no axes.");
                        long rank = input.dim() + axes.Length;
                        var result = input;
                        foreach (long axis in axes.Select(a => a < 0 ? a + rank : a).Order())
                        {
                            result = result.unsqueeze(axis);
                        }

                        return result;
                    };
                }

            case "Concat":
                {
                    long axis = node.Int("axis", 0);
                    return x => cat(x.Select(t => t!).ToArray(), axis);
                }

            case "Gemm":
                {
                    float alphaValue = node.Float("alpha", 1f);
                    float betaValue = node.Float("beta", 1f);
                    var alpha = alphaValue == 1 ? null : Hold(alphaValue);
                    var beta = betaValue == 1 ? null : Hold(betaValue);
                    bool transA = node.Int("transA", 0) != 0;
                    bool transB = node.Int("transB", 0) != 0;
                    return x =>
                    {
                        if (x[0]!.dim() != 2 || x[1]!.dim() != 2)
                        {
                            throw new InvalidOperationException($"Gemm node '{label}' needs 2-D inputs, got shapes [{string.Join(", ", x[0]!.shape)}] and [{string.Join(", ", x[1]!.shape)}].");
                        }

                        var a = transA ? x[0]!.t() : x[0]!;
                        var b = transB ? x[1]!.t() : x[1]!;
                        var product = CheckedMatMul(a, b, label);
                        if (alpha is not null)
                        {
                            product = product.mul(alpha);
                        }

                        if (x.Length > 2 && x[2] is { } c)
                        {
                            product = product.add(beta is null ? c : c.mul(beta), HeldScalars.One);
                        }

                        return product;
                    };
                }

            case "MatMul":
                return x => CheckedMatMul(x[0]!, x[1]!, label);
            case "Add":
                return x => x[0]!.add(x[1]!, HeldScalars.One);
            case "Sub":
                return x => x[0]!.add(x[1]!, HeldScalars.MinusOne);
            case "Mul":
                return x => x[0]! * x[1]!;
            case "Div":
                return x => x[0]! / x[1]!;
            case "Identity":
                return x => x[0]!.alias();
            case "Dropout":
                if (node.Output.Count > 1 && !string.IsNullOrEmpty(node.Output[1]))
                {
                    throw Refuse("its mask output is used (only inference Dropout, an identity, is supported)");
                }

                return x => x[0]!.alias();
            case "Constant":
                {
                    var value = node.Tensor("value");
                    if (value is null)
                    {
                        if (node.Has("value_float"))
                        {
                            float f = node.Float("value_float", 0);
                            return _ => tensor(f);
                        }

                        if (node.Ints("value_ints") is { } ints)
                        {
                            return _ => tensor(ints);
                        }

                        if (node.Has("value_int"))
                        {
                            long i = node.Int("value_int", 0);
                            return _ => tensor(i);
                        }

                        throw Refuse("a Constant without a value, value_float, value_int or value_ints attribute");
                    }

                    return _ => OnnxGraph.ToTensor(value, source);
                }

            default:
                throw new ModelFileException(
                    $"Model '{source}': node '{label}' uses operator {node.OpType}, which the explainer does not support, so it cannot be explained "
                    + $"(and is refused rather than approximated). Supported operators: {string.Join(", ", Supported)}.");
        }
    }

    private static Func<Tensor?[], Tensor> CompileConv(NodeProto node, Func<string, ModelFileException> refuse)
    {
        long[]? kernel = node.Ints("kernel_shape");
        if (kernel is { Length: not 1 })
        {
            throw refuse($"a {kernel.Length}-D convolution (only 1-D is supported)");
        }

        long stride = Single(node.Ints("strides"), 1, "strides", refuse);
        long dilation = Single(node.Ints("dilations"), 1, "dilations", refuse);
        long group = node.Int("group", 1);
        string autoPad = node.String("auto_pad", "NOTSET");
        var (padBegin, padEnd) = Pads(node, refuse);
        return x =>
        {
            var input = x[0]!;
            var weight = x[1]!;
            var bias = x.Length > 2 ? x[2] : null;
            if (weight.dim() != 3)
            {
                throw new InvalidOperationException($"Conv node '{node.Label()}' has a weight of rank {weight.dim()}; only 1-D convolutions are supported.");
            }

            long k = weight.shape[2];
            var (begin, end) = autoPad == "NOTSET" ? (padBegin, padEnd) : AutoPads(autoPad, input.shape[2], k, stride, dilation);
            if (begin == end)
            {
                return nn.functional.conv1d(input, weight, bias, stride, begin, dilation, group);
            }

            return nn.functional.conv1d(nn.functional.pad(input, [begin, end]), weight, bias, stride, 0, dilation, group);
        };
    }

    private static Func<Tensor?[], Tensor> CompileMaxPool(NodeProto node, Func<string, ModelFileException> refuse)
    {
        if (node.Output.Count > 1 && !string.IsNullOrEmpty(node.Output[1]))
        {
            throw refuse("its Indices output is used");
        }

        long kernel = Single(node.Ints("kernel_shape"), -1, "kernel_shape", refuse);
        long stride = Single(node.Ints("strides"), 1, "strides", refuse);
        long dilation = Single(node.Ints("dilations"), 1, "dilations", refuse);
        bool ceil = node.Int("ceil_mode", 0) != 0;
        string autoPad = node.String("auto_pad", "NOTSET");
        var (padBegin, padEnd) = Pads(node, refuse);
        return x =>
        {
            var input = x[0]!;
            var (begin, end) = autoPad == "NOTSET" ? (padBegin, padEnd) : AutoPads(autoPad, input.shape[2], kernel, stride, dilation);
            if (begin == end && begin * 2 <= kernel)
            {
                return nn.functional.max_pool1d(input, kernel, stride, begin, dilation, ceil);
            }

            var padded = nn.functional.pad(input, [begin, end], PaddingModes.Constant, double.NegativeInfinity);
            return nn.functional.max_pool1d(padded, kernel, stride, 0, dilation, ceil);
        };
    }

    private static Func<Tensor?[], Tensor> CompileAveragePool(NodeProto node, Func<string, ModelFileException> refuse)
    {
        long kernel = Single(node.Ints("kernel_shape"), -1, "kernel_shape", refuse);
        long stride = Single(node.Ints("strides"), 1, "strides", refuse);
        if (Single(node.Ints("dilations"), 1, "dilations", refuse) != 1)
        {
            throw refuse("a dilated AveragePool");
        }

        bool ceil = node.Int("ceil_mode", 0) != 0;
        bool countPad = node.Int("count_include_pad", 0) != 0;
        if (node.String("auto_pad", "NOTSET") != "NOTSET")
        {
            throw refuse("auto_pad on AveragePool (give explicit pads)");
        }

        var (begin, end) = Pads(node, refuse);
        if (begin != end || begin * 2 > kernel)
        {
            throw refuse($"asymmetric or over-wide AveragePool pads ({begin}, {end})");
        }

        return x => nn.functional.avg_pool1d(x[0]!, kernel, stride, begin, ceil, countPad);
    }

    /// <summary>
    /// Matrix product with its shapes checked first: TorchSharp 0.107's matmul does not catch libtorch's shape
    /// error, which would abort the whole process instead of throwing.
    /// </summary>
    private static Tensor CheckedMatMul(Tensor a, Tensor b, string label)
    {
        long[] sa = a.shape, sb = b.shape;
        bool ok = sa.Length > 0 && sb.Length > 0 && sa[^1] == (sb.Length == 1 ? sb[0] : sb[^2]);
        for (int i = 3; ok && i <= Math.Min(sa.Length, sb.Length); i++)
        {
            ok = sa[^i] == sb[^i] || sa[^i] == 1 || sb[^i] == 1;
        }

        return ok ? a.matmul(b) : throw new InvalidOperationException(
            $"MatMul/Gemm node '{label}': shapes [{string.Join(", ", sa)}] and [{string.Join(", ", sb)}] cannot be multiplied.");
    }

    private static (long Begin, long End) Pads(NodeProto node, Func<string, ModelFileException> refuse)
    {
        long[]? pads = node.Ints("pads");
        if (pads is null || pads.Length == 0)
        {
            return (0, 0);
        }

        if (pads.Length != 2)
        {
            throw refuse($"{pads.Length / 2}-D pads (only 1-D is supported)");
        }

        return (pads[0], pads[1]);
    }

    private static (long Begin, long End) AutoPads(string autoPad, long length, long kernel, long stride, long dilation)
    {
        if (autoPad == "VALID")
        {
            return (0, 0);
        }

        long output = (length + stride - 1) / stride;
        long total = Math.Max(0, ((output - 1) * stride) + ((kernel - 1) * dilation) + 1 - length);
        long small = total / 2;
        return autoPad == "SAME_LOWER" ? (total - small, small) : (small, total - small);
    }

    private static long Single(long[]? values, long fallback, string name, Func<string, ModelFileException> refuse)
    {
        if (values is null || values.Length == 0)
        {
            return fallback >= 0 ? fallback : throw refuse($"no {name}");
        }

        return values.Length == 1 ? values[0] : throw refuse($"{values.Length}-D {name} (only 1-D is supported)");
    }
}
