using Microsoft.ML.OnnxRuntime;
using TSViz.Explain.Onnx;
using ModelMetadata = TSViz.Explain.Onnx.ModelMetadata;

namespace TSViz.Plugins.Scoring;

/// <summary>
/// Scores with ONNX Runtime on the CPU. One intra-op thread: on a 2-core machine two were measured slower, and
/// the monitor runs explanations beside scoring. Calls to <see cref="Score"/> from several threads are safe and run
/// one at a time.
/// </summary>
public sealed class OnnxRuntimeScorer : IWindowScorer
{
    private readonly InferenceSession session;
    private readonly string inputName;
    private readonly string[] outputNames;
    private readonly Lock gate = new();

    private OnnxRuntimeScorer(InferenceSession session, ModelMetadata metadata)
    {
        this.session = session;
        Metadata = metadata;
        inputName = session.InputNames[0];
        outputNames = [OnnxExporter.ScoreOutput];
    }

    /// <summary>
    /// The metadata read from the model file when it was opened (channels, window length, preprocessing, threshold).
    /// </summary>
    public ModelMetadata Metadata { get; }

    /// <summary>Opens a model file; its metadata is validated first, so a bad file fails with a clear message.</summary>
    /// <param name="path">The ONNX file, with the TSViz metadata and an output named <c>score</c>.</param>
    /// <param name="intraOpThreads">
    /// ONNX Runtime's threads within one run; 1, the default, was the fastest measured.
    /// </param>
    /// <returns>The scorer, which owns the session: dispose it.</returns>
    /// <exception cref="ModelFileException">The file is missing, corrupt, lacks metadata, or ONNX Runtime refuses it.</exception>
    public static OnnxRuntimeScorer Open(string path, int intraOpThreads = 1)
    {
        var file = OnnxModelFile.Load(path);
        using var options = new SessionOptions { IntraOpNumThreads = intraOpThreads, InterOpNumThreads = 1 };
        InferenceSession session;
        try
        {
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelFileException($"ONNX Runtime cannot load model '{path}': {ex.Message}", ex);
        }

        if (!session.OutputNames.Contains(OnnxExporter.ScoreOutput))
        {
            session.Dispose();
            throw new ModelFileException(
                $"Model '{path}' has no output named '{OnnxExporter.ScoreOutput}' (outputs: {string.Join(", ", session.OutputNames)}).");
        }

        return new OnnxRuntimeScorer(session, file.Metadata);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The windows are copied once into a managed buffer for ONNX Runtime; one run scores the whole batch.
    /// </remarks>
    public void Score(ReadOnlySpan<float> windows, int count, Span<float> scores)
    {
        int size = Metadata.Channels.Count * Metadata.WindowLength;
        if (windows.Length != count * size || scores.Length < count)
        {
            throw new ArgumentException($"Expected {count} windows of {Metadata.Channels.Count} x {Metadata.WindowLength} values and room for {count} scores.");
        }

        var buffer = windows.ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(buffer, [count, Metadata.Channels.Count, Metadata.WindowLength]);
        lock (gate)
        {
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, [inputName], [input], outputNames);
            results[0].GetTensorDataAsSpan<float>()[..count].CopyTo(scores);
        }
    }

    /// <summary>Releases the ONNX Runtime session; call it once no <see cref="Score"/> is running or will be.</summary>
    public void Dispose() => session.Dispose();
}
