using TSViz.Explain.Evaluation;

namespace TSViz.Explain.Tests.Evaluation;

/// <summary>Infidelity and max-sensitivity on perturbations and attributions given by hand.</summary>
public sealed class InfidelityAndSensitivityTests
{
    [Fact]
    public void InfidelityScore_GivenPerturbations_IsTheMeanSquaredError()
    {
        // I = (1, 0) and (0, 2) with drops 3 and 1; A = (2, 1): I . A = 2 and 2, errors -1 and 1: mean square 1.
        var perturbations = new InfidelityPerturbations(1, 2, 2, [1f, 0f, 0f, 2f], [3.0, 1.0]);

        Assert.Equal(1.0, Infidelity.Score(perturbations, [[2f, 1f]], normalize: false)[0], 10);
        // A doubled: I . A = 4 and 4, errors 1 and 3: 5. Normalised, beta = (4 * 3 + 4 * 1) / 32 = 0.5 undoes the factor.
        Assert.Equal(5.0, Infidelity.Score(perturbations, [[4f, 2f]], normalize: false)[0], 10);
        Assert.Equal(1.0, Infidelity.Score(perturbations, [[4f, 2f]], normalize: true)[0], 10);
    }

    [Fact]
    public void InfidelityScore_ZeroAttribution_IsTheMeanSquaredDrop()
    {
        var perturbations = new InfidelityPerturbations(1, 2, 2, [1f, 0f, 0f, 2f], [3.0, 1.0]);

        Assert.Equal(5.0, Infidelity.Score(perturbations, [[0f, 0f]], normalize: true)[0], 10);
    }

    [Fact]
    public void MaxSensitivityScore_GivenAttributions_IsTheLargestRelativeFrobeniusChange()
    {
        // ||A|| = 5; the copies differ by 0, 1 and 3: 3 / 5.
        Assert.Equal(0.6, MaxSensitivity.Score([[3f, 4f]], [[3f, 4f], [3f, 5f], [0f, 4f]], 3)[0], 6);
        // A zero attribution divides by 1, as Captum does.
        Assert.Equal(2.0, MaxSensitivity.Score([[0f, 0f]], [[0f, 2f]], 1)[0], 6);
    }

    [Fact]
    public void MaxSensitivityPerturb_StaysInTheBallAndIsSeeded()
    {
        float[] windows = [1f, 2f, 3f, -1f, -2f, -3f];

        var a = MaxSensitivity.Perturb(windows, 2, 0.05, 4, 7);
        var b = MaxSensitivity.Perturb(windows, 2, 0.05, 4, 7);

        Assert.Equal(a, b);
        Assert.Equal(24, a.Length);
        for (int j = 0; j < a.Length; j++)
        {
            int w = j / 12, i = j % 3;
            Assert.InRange(a[j] - windows[(w * 3) + i], -0.05f - 1e-6f, 0.05f + 1e-6f);
        }
    }
}
