namespace TSViz.Explain.Training;

/// <summary>
/// How a reference model is trained: Adam (optionally AMSGrad), early stopping on the validation loss with the
/// best weights restored, and learning-rate halving when the validation loss stops improving.
/// </summary>
public sealed record TrainingOptions
{
    public int Seed { get; init; } = 1;
    public int MaxEpochs { get; init; } = 30;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 0.003;
    public bool AmsGrad { get; init; } = true;

    /// <summary>Adam's L2 term on every parameter (0: none).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Stop after this many epochs without a better validation loss.</summary>
    public int EarlyStoppingPatience { get; init; } = 6;

    /// <summary>Halve the learning rate after this many epochs without a better validation loss.</summary>
    public int PlateauPatience { get; init; } = 3;

    /// <summary>libtorch intra-op threads; null keeps the default.</summary>
    public int? Threads { get; init; }
}

/// <summary>One epoch of training as it happened.</summary>
public sealed record EpochReport(int Epoch, double TrainLoss, double ValidationLoss, double LearningRate, bool Improved, TimeSpan Elapsed);

/// <summary>The whole run: every epoch and which one's weights were kept.</summary>
public sealed record TrainingResult(IReadOnlyList<EpochReport> Epochs, int BestEpoch, double BestValidationLoss, TimeSpan Elapsed);
