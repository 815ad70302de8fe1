namespace TSViz.Explain.Training;

/// <summary>
/// How a reference model is trained: Adam (optionally AMSGrad), early stopping on the validation loss with the
/// best weights restored, and learning-rate halving when the validation loss stops improving.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Seed of the shuffling (the initial weights come from libtorch's own seed).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Most epochs to train; early stopping may end sooner.</summary>
    public int MaxEpochs { get; init; } = 30;

    /// <summary>Windows per optimiser step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam's initial learning rate (halved on plateaus).</summary>
    public double LearningRate { get; init; } = 0.003;

    /// <summary>Use the AMSGrad variant of Adam, as the reference code does.</summary>
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
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's steps.</param>
/// <param name="ValidationLoss">Loss on the validation windows after the epoch.</param>
/// <param name="LearningRate">The learning rate after the epoch (halved when the validation loss stalled).</param>
/// <param name="Improved">The validation loss beat every earlier epoch's (these weights are kept).</param>
/// <param name="Elapsed">Time the epoch took, its validation included.</param>
public sealed record EpochReport(int Epoch, double TrainLoss, double ValidationLoss, double LearningRate, bool Improved, TimeSpan Elapsed);

/// <summary>The whole run: every epoch and which one's weights were kept.</summary>
/// <param name="Epochs">Every epoch trained, in order.</param>
/// <param name="BestEpoch">The epoch whose weights the model holds now (0: the initial weights).</param>
/// <param name="BestValidationLoss">That epoch's validation loss.</param>
/// <param name="Elapsed">Time the whole run took.</param>
public sealed record TrainingResult(IReadOnlyList<EpochReport> Epochs, int BestEpoch, double BestValidationLoss, TimeSpan Elapsed);
