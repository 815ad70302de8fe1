using TorchSharp;
using TSViz.Explain.Runtime;
using static TorchSharp.torch;

namespace TSViz.Explain.Tests.Runtime;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void BackwardPass_OfWeightedSquares_GivesHandDerivedGradient()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        float[] xs = [1.5f, -2f, 0.25f, 3f];
        float[] ws = [2f, 0.5f, -4f, 1f];
        var x = tensor(xs, requires_grad: true);
        var w = tensor(ws);

        // y = sum(w * x^2)  =>  dy/dx = 2 w x
        var y = (w * x * x).sum();
        y.backward();

        var gradient = x.grad!.data<float>().ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            Assert.Equal(2 * ws[i] * xs[i], gradient[i], 5);
        }
    }

    [Fact]
    public void EnsureInitialized_OnLinux_SwitchesNnpackOff()
    {
        TorchRuntime.EnsureInitialized();
        Assert.False(TorchRuntime.IsNnpackEnabled);
    }

    [Fact]
    public void Conv1dBackward_AfterInitialization_RunsOnCpu()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        torch.random.manual_seed(3);
        using var conv = nn.Conv1d(3, 4, 3);
        var x = randn(2, 3, 10, requires_grad: true);
        conv.forward(x).sum().backward();
        Assert.NotNull(x.grad);
        Assert.Equal([2L, 3, 10], x.grad!.shape);
        Assert.True(x.grad.abs().sum().item<float>() > 0);
    }
}
