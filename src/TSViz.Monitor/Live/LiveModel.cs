using TSViz.Explain;
using TSViz.Explain.Onnx;
using TSViz.Plugins.Scoring;

namespace TSViz.Monitor.Live;

/// <summary>The deployed model, loaded once: ONNX Runtime scores it, the explainer explains the very same file.</summary>
internal sealed class LiveModel : IDisposable
{
    public LiveModel(string path)
    {
        Scorer = OnnxRuntimeScorer.Open(path);
        Explainer = Explainer.Load(path);
        if (Scorer.Metadata.DecisionThreshold is null)
        {
            Dispose();
            throw new ModelFileException($"Model '{path}' declares no decision threshold (tsviz.decision_threshold); the live monitor raises alerts and needs one.");
        }
    }

    public OnnxRuntimeScorer Scorer { get; }

    public Explainer Explainer { get; }

    public ModelMetadata Metadata => Scorer.Metadata;

    public string Version => $"{Metadata.Name} {Metadata.Version}";

    public double Threshold => Metadata.DecisionThreshold!.Value;

    public void Dispose()
    {
        Scorer.Dispose();
        Explainer.Dispose();
    }
}
