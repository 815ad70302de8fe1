using System.Diagnostics;
using TorchSharp;
using TSViz.Explain.Data;
using TSViz.Explain.Models;
using TSViz.Explain.Runtime;
using static TorchSharp.torch;

namespace TSViz.Explain.Training;

/// <summary>Trains a <see cref="ConvNet1d"/>: binary cross-entropy on logits for probabilities, MSE for values.</summary>
public static class Trainer
{
    private const int EvaluationBatch = 2048;

    /// <summary>
    /// Trains <paramref name="model"/> in place and leaves it with the weights of the best validation loss.
    /// <paramref name="onEpoch"/> sees each epoch's report; <paramref name="afterStep"/> runs without gradients
    /// before training and after every optimiser step (e.g. to hold pruned filters at zero).
    /// </summary>
    public static TrainingResult Train(
        ConvNet1d model,
        WindowSet train,
        WindowSet validation,
        TrainingOptions options,
        Action<EpochReport>? onEpoch = null,
        Action<ConvNet1d>? afterStep = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        TorchRuntime.EnsureInitialized(options.Threads);

        var total = Stopwatch.StartNew();
        var shuffle = new GaussianRandom(options.Seed);
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate, amsgrad: options.AmsGrad, weight_decay: options.WeightDecay);
        using var inputs = ToTensor(train);
        using var targets = tensor(train.Targets, [train.Count, 1]);

        var epochs = new List<EpochReport>();
        if (afterStep is not null)
        {
            using var noGrad = no_grad();
            afterStep(model);
        }

        var best = model.ExportParameters().ToDictionary(p => p.Name, p => p.Values);
        double bestLoss = Evaluate(model, validation);
        int bestEpoch = 0;
        int sinceBest = 0;
        int sincePlateau = 0;
        double learningRate = options.LearningRate;

        for (int epoch = 1; epoch <= options.MaxEpochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            model.train();
            var order = shuffle.Permutation(train.Count);
            double lossSum = 0;
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                using var scope = NewDisposeScope();
                int count = Math.Min(options.BatchSize, order.Length - start);
                var index = tensor(order.AsSpan(start, count).ToArray().Select(i => (long)i).ToArray());
                var x = inputs.index_select(0, index);
                var y = targets.index_select(0, index);
                optimizer.zero_grad();
                var loss = Loss(model.Spec.Output, model.forward(x), y);
                loss.backward();
                optimizer.step();
                if (afterStep is not null)
                {
                    using var noGrad = no_grad();
                    afterStep(model);
                }

                lossSum += loss.item<float>() * count;
            }

            double validationLoss = Evaluate(model, validation);
            bool improved = validationLoss < bestLoss - 1e-7;
            if (improved)
            {
                bestLoss = validationLoss;
                bestEpoch = epoch;
                best = model.ExportParameters().ToDictionary(p => p.Name, p => p.Values);
                sinceBest = 0;
                sincePlateau = 0;
            }
            else
            {
                sinceBest++;
                sincePlateau++;
                if (sincePlateau >= options.PlateauPatience)
                {
                    learningRate /= 2;
                    foreach (var group in optimizer.ParamGroups)
                    {
                        group.LearningRate = learningRate;
                    }

                    sincePlateau = 0;
                }
            }

            var report = new EpochReport(epoch, lossSum / train.Count, validationLoss, learningRate, improved, watch.Elapsed);
            epochs.Add(report);
            onEpoch?.Invoke(report);
            if (sinceBest >= options.EarlyStoppingPatience)
            {
                break;
            }
        }

        model.LoadParameters(best);
        model.eval();
        return new TrainingResult(epochs, bestEpoch, bestLoss, total.Elapsed);
    }

    /// <summary>Mean loss of the model over a set (evaluation mode, no gradients).</summary>
    public static double Evaluate(ConvNet1d model, WindowSet set)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        model.eval();
        using var noGrad = no_grad();
        double sum = 0;
        for (int start = 0; start < set.Count; start += EvaluationBatch)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(EvaluationBatch, set.Count - start);
            var part = set.Slice(start, count);
            var loss = Loss(model.Spec.Output, model.forward(ToTensor(part)), tensor(part.Targets, [count, 1]));
            sum += loss.item<float>() * count;
        }

        return sum / set.Count;
    }

    /// <summary>The deployed output (probability or value) for every window of a set.</summary>
    public static float[] Predict(ConvNet1d model, WindowSet set)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(set);
        model.eval();
        using var noGrad = no_grad();
        var result = new float[set.Count];
        for (int start = 0; start < set.Count; start += EvaluationBatch)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(EvaluationBatch, set.Count - start);
            var output = model.Predict(ToTensor(set.Slice(start, count)));
            output.ToFloatArray().CopyTo(result, start);
        }

        return result;
    }

    /// <summary>A set's windows as an N x C x L tensor.</summary>
    public static Tensor ToTensor(WindowSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return tensor(set.Values, [set.Count, set.Channels, set.Length]);
    }

    private static Tensor Loss(OutputKind kind, Tensor output, Tensor target) => kind == OutputKind.Probability
        ? nn.functional.binary_cross_entropy_with_logits(output, target)
        : nn.functional.mse_loss(output, target);
}
