using Prometheus;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// The nightly jobs' Prometheus metrics: runs, last success and duration per job, and what the last analysis found per
/// conv layer (tsviz_ prefix, base units, _total counters; labels bounded by the jobs and the model's layers).
/// </summary>
internal sealed class JobMetrics
{
    public JobMetrics(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        JobRuns = factory.CreateCounter("tsviz_job_runs_total", "Runs of the nightly jobs, by job (analysis, retention) and outcome (succeeded, failed, skipped).", "job", "outcome");
        JobLastSuccess = factory.CreateGauge("tsviz_job_last_success_timestamp_seconds", "Unix time of the job's last successful run (kept in the history file across restarts); absent until it first succeeds.", "job");
        JobLastDuration = factory.CreateGauge("tsviz_job_last_duration_seconds", "Duration of the job's last run, whatever its outcome.", "job");
        AnalysisClusters = factory.CreateGauge("tsviz_analysis_clusters", "Filter clusters (silhouette-chosen k) per conv layer in the last analysis.", "layer");
        PruningCandidates = factory.CreateGauge("tsviz_pruning_candidates", "Pruning candidates per conv layer in the last analysis (never active, or under 10 % of the layer's top influence and redundant in its cluster).", "layer");
        DeadFilters = factory.CreateGauge("tsviz_dead_filters", "Filters never active on the analysed windows, per conv layer, in the last analysis.", "layer");
        RetentionDeleted = factory.CreateCounter("tsviz_retention_deleted_total", "Records the retention job deleted, by kind (windows, details, alerts, analyses, job_runs).", "kind");
    }

    public Counter JobRuns { get; }
    public Gauge JobLastSuccess { get; }
    public Gauge JobLastDuration { get; }
    public Gauge AnalysisClusters { get; }
    public Gauge PruningCandidates { get; }
    public Gauge DeadFilters { get; }
    public Counter RetentionDeleted { get; }
}
