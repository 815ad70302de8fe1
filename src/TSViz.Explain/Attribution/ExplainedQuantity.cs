using System.Globalization;
using TorchSharp;
using TSViz.Explain.Graph;
using static TorchSharp.torch;

namespace TSViz.Explain.Attribution;

/// <summary>
/// The per-window scalar that explanations differentiate. For a sigmoid/softmax model the default is the logit:
/// the probability's gradient is exactly zero in float32 once the output saturates (Proposition 1), and the logit
/// is a monotone function of the probability, so its gradient ranks the same inputs without dying. Eq. 19's
/// temperature is offered as the paper's alternative.
/// </summary>
internal static class ExplainedQuantity
{
    /// <summary>Per-window [N] quantity and its description.</summary>
    public static (Tensor Value, string Description) Select(
        OnnxGraph graph, IReadOnlyDictionary<string, Tensor> values, GradientTarget target, double temperature)
    {
        var score = values[graph.ScoreOutput];
        var column = score.shape[1] == 1 ? null : ClassIndex(score);
        var effective = target == GradientTarget.Auto
            ? (graph.LogitTensor is null ? GradientTarget.Output : GradientTarget.Logit)
            : target;

        if (effective != GradientTarget.Output && graph.LogitTensor is null)
        {
            throw new InvalidOperationException($"The model's output is not a sigmoid or softmax, so it has no logit; use {GradientTarget.Output} or {GradientTarget.Auto}.");
        }

        switch (effective)
        {
            case GradientTarget.Output:
                return (Score(score), graph.FinalActivation == "none" ? "value" : "probability");
            case GradientTarget.Logit:
                return (Pick(values[graph.LogitTensor!], column), "logit");
            default:
                {
                    if (temperature <= 0)
                    {
                        throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive.");
                    }

                    // Held until the division has run: a number converted implicitly could be freed during it.
                    using var divisor = temperature.ToScalar();
                    var scaled = values[graph.LogitTensor!].div(divisor);
                    var probability = graph.FinalActivation == "Softmax" ? scaled.softmax(1) : scaled.sigmoid();
                    return (Pick(probability, column),
                        string.Create(CultureInfo.InvariantCulture, $"probability at temperature {temperature}"));
                }
        }
    }

    private static Tensor Pick(Tensor values, Tensor? column) => column is null ? values.squeeze(1) : values.gather(1, column).squeeze(1);

    /// <summary>The column explained per window: 0 for single outputs, the predicted class otherwise. [N, 1].</summary>
    public static Tensor ClassIndex(Tensor score)
        => score.shape[1] == 1 ? zeros([score.shape[0], 1], ScalarType.Int64) : score.argmax(1, keepdim: true);

    /// <summary>The reported score per window: the single output, or the predicted class's probability.</summary>
    public static Tensor Score(Tensor score) => score.shape[1] == 1 ? score.squeeze(1) : score.gather(1, ClassIndex(score)).squeeze(1);
}
