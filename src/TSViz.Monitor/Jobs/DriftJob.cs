using System.Globalization;
using Microsoft.Extensions.Options;
using Quartz;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Drift;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Jobs;

/// <summary>
/// The nightly drift references: for the deployed model version, each machine's normal windows of the reference period
/// (Drift:ReferenceFrom..ReferenceTo, or the Drift:ReferenceDays before the run; the last Drift:MaxReferenceWindows)
/// become its profile (<see cref="DriftProfileBuilder"/>), and the live comparison reloads them. A machine's existing
/// reference is kept unless Drift:Rebuild is set or the fixed period changed; a machine with fewer than
/// Drift:MinReferenceWindows normal windows gets none yet (counted in the run's message). Besides the nightly schedule the
/// monitor runs it for the machines without a reference as soon as one has enough normal windows (Drift:BuildWhenReady).
/// </summary>
[DisallowConcurrentExecution]
internal sealed class DriftJob(
    IDriftStore store,
    DriftMonitor monitor,
    LiveModel model,
    IOptions<MonitorOptions> options,
    JobRunLog runs,
    ILogger<DriftJob> logger) : NightlyJob(NightlyJobs.Drift, runs, logger)
{
    /// <summary>A run's data key: build only the machines without a reference (the monitor's own trigger, <see cref="DriftReferenceTrigger"/>).</summary>
    public const string OnlyMissingKey = "tsviz.drift.only-missing";

    protected override async Task<JobResult> RunAsync(CancellationToken cancellationToken)
    {
        bool onlyMissing = Data?.ContainsKey(OnlyMissingKey) == true;
        var settings = options.Value.Drift;
        if (!settings.Enabled)
        {
            return new JobResult(JobOutcome.Skipped, "drift detection is off (Drift:Enabled)");
        }

        var now = Runs.Time.GetUtcNow();
        var (from, to) = settings.ReferenceFrom is { } fixedFrom && settings.ReferenceTo is { } fixedTo ? (fixedFrom, fixedTo) : (now.AddDays(-settings.ReferenceDays), now);
        var existing = (await store.DriftProfilesAsync(model.Version, cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Machine, StringComparer.Ordinal);
        var machines = await store.ReferenceMachinesAsync(model.Version, from, to, cancellationToken).ConfigureAwait(false);
        int built = 0, kept = 0, tooFew = 0;
        foreach (string machine in machines)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (existing.TryGetValue(machine, out var known) && (onlyMissing || (!settings.Rebuild && (settings.ReferenceFrom is null || (known.From >= from && known.To <= to)))))
            {
                kept++;
                continue;
            }

            // One machine at a time: its windows are read, built into a profile and let go before the next machine's.
            var observations = await store.ReferenceWindowsAsync(machine, model.Version, from, to, settings.MaxReferenceWindows, model.Metadata.Channels, cancellationToken).ConfigureAwait(false);

            var profile = observations.Count < settings.MinReferenceWindows
                ? null
                : DriftProfileBuilder.Build(machine, model.Version, model.Metadata.Channels, observations, settings.RollingWindows, settings.Margin, now);
            if (profile is null)
            {
                tooFew++;
                continue;
            }

            await store.SaveDriftProfileAsync(profile, cancellationToken).ConfigureAwait(false);
            built++;
        }

        await monitor.ReloadAsync(cancellationToken).ConfigureAwait(false);
        return new JobResult(JobOutcome.Succeeded, string.Create(CultureInfo.InvariantCulture,
            $"drift references for model {model.Version} from {from:yyyy-MM-dd HH:mm}..{to:yyyy-MM-dd HH:mm} UTC: {built} built, {kept} kept, {tooFew} machines with fewer than {settings.MinReferenceWindows} normal windows"));
    }
}
