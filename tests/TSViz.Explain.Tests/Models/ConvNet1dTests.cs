using TorchSharp;
using TSViz.Explain.Models;
using TSViz.Explain.Runtime;
using static TorchSharp.torch;

namespace TSViz.Explain.Tests.Models;

public sealed class ConvNet1dTests
{
    [Fact]
    public void AnomalyReference_Lengths_MatchThePaperRecipe()
    {
        var spec = ConvNetSpec.AnomalyReference;
        Assert.Equal([24, 11, 9], spec.BlockOutputLengths);
        Assert.Equal(64 * 9, spec.DenseInputs);
        Assert.Equal(112, spec.TotalFilters);
    }

    [Fact]
    public void Forward_ReferenceBatch_HasOneOutputPerWindowAndNamedParameters()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        using var model = new ConvNet1d(ConvNetSpec.AnomalyReference);
        var output = model.forward(randn(5, 3, 50));
        Assert.Equal([5L, 1], output.shape);
        Assert.Equal(
            ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "conv3.weight", "conv3.bias", "fc.weight", "fc.bias"],
            model.named_parameters().Select(p => p.name).ToArray());
    }

    [Fact]
    public void Backward_InputGradient_MatchesCentralFiniteDifferences()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        torch.random.manual_seed(17);
        using var model = new ConvNet1d(ConvNetSpec.AnomalyReference);
        model.to(ScalarType.Float64);
        model.eval();
        var x = randn([1, 3, 50], dtype: ScalarType.Float64, requires_grad: true);
        model.forward(x).sum().backward();
        var gradient = x.grad!.data<double>().ToArray();
        var baseValues = x.detach().data<double>().ToArray();

        const double h = 1e-6;
        using var noGrad = no_grad();
        foreach (int index in new[] { 0, 7, 49, 50, 75, 99, 100, 123, 149 })
        {
            double Evaluate(double delta)
            {
                var shifted = (double[])baseValues.Clone();
                shifted[index] += delta;
                return model.forward(tensor(shifted, [1, 3, 50])).item<double>();
            }

            double numeric = (Evaluate(h) - Evaluate(-h)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[index]) <= 1e-6 + (1e-5 * Math.Abs(numeric)),
                $"input {index}: autograd {gradient[index]}, finite differences {numeric}");
        }
    }
}
