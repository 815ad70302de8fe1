using TorchSharp;
using TSViz.Explain.Data;
using TSViz.Explain.Models;
using TSViz.Explain.Training;

namespace TSViz.Explain.Tests.Training;

public sealed class TrainerTests
{
    [Fact]
    public void Train_FewAnomalyWindows_LowersValidationLossAndKeepsTheBestEpoch()
    {
        var data = new AnomalyDatasetGenerator(21).Generate(3_000).Windows;
        var train = data.Slice(0, 2_500);
        var validation = data.Slice(2_500, 500);
        torch.random.manual_seed(21);
        using var model = new ConvNet1d(ConvNetSpec.AnomalyReference);
        double before = Trainer.Evaluate(model, validation);

        var result = Trainer.Train(model, train, validation, new TrainingOptions { MaxEpochs = 4, BatchSize = 64, Seed = 21 });

        Assert.InRange(result.Epochs.Count, 1, 4);
        Assert.True(result.BestValidationLoss < before, $"validation loss {before} -> {result.BestValidationLoss}");

        // The weights left in the model are those of the best epoch.
        Assert.Equal(result.BestValidationLoss, Trainer.Evaluate(model, validation), 5);
    }
}
