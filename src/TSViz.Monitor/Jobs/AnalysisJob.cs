using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Quartz;
using TSViz.Explain.Onnx;
using TSViz.Explain.Pruning;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// The nightly analysis: the input windows stored in the last Jobs:AnalysisHours (at most Jobs:AnalysisMaxWindows,
/// newest first) through <see cref="ModelAnalysis"/> on the deployed model's file; the summary stored in the
/// history's analyses table and published, retained, to {OutputPrefix}/model/{model}/analysis.
/// </summary>
[DisallowConcurrentExecution]
internal sealed partial class AnalysisJob(
    IAnalysisStore store,
    IOptions<MonitorOptions> options,
    LiveModel model,
    IResultPublisher publisher,
    JobMetrics metrics,
    JobRunLog runs,
    ILogger<AnalysisJob> logger) : NightlyJob(NightlyJobs.Analysis, runs, logger)
{
    /// <summary>Fewer stored windows than this and the run is skipped: clusters and influence on a handful of windows say little.</summary>
    public const int MinWindows = 8;

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(60);

    protected override async Task<JobResult> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = Runs.Time.GetUtcNow();
        var stored = await store.InputWindowsAsync(now - TimeSpan.FromHours(settings.Jobs.AnalysisHours), settings.Jobs.AnalysisMaxWindows, cancellationToken).ConfigureAwait(false);
        var metadata = model.Metadata;
        int channels = metadata.Channels.Count;
        int length = metadata.WindowLength;
        foreach (var input in stored)
        {
            // A stored input that does not hold the values its own shape declares is damage, not another model's window.
            if (input.Input.Length != input.Channels * input.Length)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"stored window '{input.WindowId}' is corrupt: {input.Input.Length} input values for {input.Channels} channels x {input.Length} steps"));
            }
        }

        var usable = stored.Where(i => i.Channels == channels && i.Length == length).ToList();
        if (usable.Count < MinWindows)
        {
            return new JobResult(JobOutcome.Skipped, string.Create(CultureInfo.InvariantCulture,
                $"{usable.Count} stored input windows of the model's shape in the last {settings.Jobs.AnalysisHours:G} h; at least {MinWindows} are needed"));
        }

        var windows = new float[usable.Count * channels * length];
        for (int i = 0; i < usable.Count; i++)
        {
            usable[i].Input.CopyTo(windows, i * channels * length);
        }

        // The deployed file itself (the one LiveModel loaded); the summary names its version.
        var file = OnnxModelFile.Load(settings.ModelPath);
        if (file.Metadata.Version != metadata.Version || file.Metadata.Name != metadata.Name)
        {
            throw new InvalidOperationException($"the model file '{settings.ModelPath}' now holds {file.Metadata.Name} {file.Metadata.Version}, the monitor runs {model.Version}: restart the monitor to deploy it");
        }

        var summary = await Task.Run(() => ModelAnalysis.Run(file, windows, usable.Count, PruningCriteria.Parse(settings.Jobs.PruningCriterion), cancellationToken), cancellationToken).ConfigureAwait(false) with
        {
            From = usable.Min(i => i.WindowEnd),
            To = usable.Max(i => i.WindowEnd),
            OtherShapeWindows = stored.Count - usable.Count,
        };
        var record = await store.SaveAnalysisAsync(NightlyJobs.Analysis, metadata.Name, metadata.Version, now, usable.Count,
            JsonSerializer.Serialize(summary, JobsJsonContext.Default.AnalysisSummary), cancellationToken).ConfigureAwait(false);

        foreach (var layer in summary.Layers)
        {
            metrics.AnalysisClusters.WithLabels(layer.Layer).Set(layer.K);
            metrics.PruningCandidates.WithLabels(layer.Layer).Set(layer.PruningCandidates);
            metrics.DeadFilters.WithLabels(layer.Layer).Set(layer.DeadFilters.Length);
        }

        // The publisher retries while the broker is away; a broker gone for longer than this fails the run (the
        // analysis itself is stored), so the staleness alert and /health say the retained summary is old.
        using (var publishing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            publishing.CancelAfter(PublishTimeout);
            try
            {
                await publisher.PublishAsync(Topic(settings.Mqtt.OutputPrefix, metadata.Name), JsonSerializer.SerializeToUtf8Bytes(Digest(summary, record), JobsJsonContext.Default.AnalysisDigest),
                    retain: true, publishing.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"analysis {record.Id} is stored, but its summary could not be published within {PublishTimeout.TotalSeconds:F0} s (broker unreachable)"));
            }
        }

        return new JobResult(JobOutcome.Succeeded, string.Create(CultureInfo.InvariantCulture,
            $"analysis {record.Id}: {usable.Count} windows, k {string.Join('/', summary.Layers.Select(l => l.K))}, {summary.Layers.Sum(l => l.PruningCandidates)} pruning candidates, {summary.Layers.Sum(l => l.DeadFilters.Length)} dead filters, computed in {summary.Seconds:F1} s"));
    }

    public static string Topic(string outputPrefix, string modelName) => $"{outputPrefix}/model/{modelName}/analysis";

    public static AnalysisDigest Digest(AnalysisSummary summary, AnalysisRecord record)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(record);
        return new AnalysisDigest(
            summary.Model, summary.ModelVersion, record.At, record.Id, summary.Windows,
            summary.Layers.Select(l => new LayerDigest(l.Layer, l.Filters, l.K, l.Silhouette, l.DeadFilters.Length, l.PruningCandidates, l.Representatives)).ToList(),
            summary.Candidates.Take(5).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Layer}:{c.Filter}")).ToList(),
            summary.Layers.Select(l => new FaithfulnessDigest(l.Layer,
                summary.Faithfulness.FirstOrDefault(r => r.Layer == l.Layer && r.Which == "least")?.PercentChange,
                summary.Faithfulness.FirstOrDefault(r => r.Layer == l.Layer && r.Which == "most")?.PercentChange)).ToList())
        {
            PruningCriterion = summary.PruningCriterion,
        };
    }
}
