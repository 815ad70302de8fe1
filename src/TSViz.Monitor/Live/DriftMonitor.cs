using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Settings;
using TSViz.Plugins.Drift;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Live;

/// <summary>
/// Live drift detection: every machine's normal windows (outside alerts, explained) go through its
/// <see cref="DriftDetector"/> against the reference the nightly drift job built for the deployed model version. The
/// state goes to Prometheus (tsviz_drift_*), retained to {OutputPrefix}/{machine}/drift (on every change and every
/// Drift:PublishEveryWindows compared windows) and, on every change of a kind's state, to the history's drift events
/// (written in the background; a full queue drops the event, counted and logged). Observed on the processor's loop;
/// read by the HTTP API from any thread.
/// </summary>
internal sealed partial class DriftMonitor(
    IOptions<MonitorOptions> options, LiveModel model, LiveMetrics metrics, ILogger<DriftMonitor> logger, IDriftStore? store = null) : IHostedService
{
    private const int EventQueue = 10_000;

    private readonly DriftSettings settings = options.Value.Drift;
    private readonly IDriftStore? history = options.Value.History.Enabled && options.Value.Drift.Enabled ? store : null;
    private readonly Lock gate = new();
    private readonly Dictionary<string, DriftProfile> profiles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MachineDrift> machines = new(StringComparer.Ordinal);
    private readonly Channel<DriftEvent> events = Channel.CreateBounded<DriftEvent>(new BoundedChannelOptions(EventQueue) { SingleReader = true });
    private readonly Channel<string> wanted = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private Task? writer;

    public bool Enabled => settings.Enabled;

    /// <summary>
    /// Machines without a reference that have reached Drift:MinReferenceWindows normal windows since the start (and every
    /// quarter of it more while they still have none): the jobs feature runs the drift job for them. Coalesced: at most
    /// one waits.
    /// </summary>
    public ChannelReader<string> ReferencesWanted => wanted.Reader;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ReloadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HistoryStoreException ex)
        {
            // The live path does not wait on drift: the machines run without references (no_reference) until it is fixed;
            // the drift job fails with the same message, recorded in its runs.
            LogReferencesUnreadable(logger, ex);
        }

        if (history is not null)
        {
            writer = Task.Run(WriteEventsAsync, CancellationToken.None);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        wanted.Writer.TryComplete();
        events.Writer.TryComplete();
        if (writer is not null)
        {
            await writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Loads the machines' references for the deployed model version; a machine whose reference changed starts over.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        if (history is null)
        {
            return;
        }

        var loaded = await history.DriftProfilesAsync(model.Version, cancellationToken).ConfigureAwait(false);
        foreach (var unusable in loaded.Where(p => !p.Channels.SequenceEqual(model.Metadata.Channels)))
        {
            // Same version, other channels: a model file changed without a new version. Not compared; said, not hidden.
            LogChannelsDiffer(logger, unusable.Machine, string.Join(',', unusable.Channels), string.Join(',', model.Metadata.Channels));
        }

        lock (gate)
        {
            foreach (var profile in loaded.Where(p => p.Channels.SequenceEqual(model.Metadata.Channels)))
            {
                if (!profiles.TryGetValue(profile.Machine, out var known) || known.BuiltAt != profile.BuiltAt)
                {
                    profiles[profile.Machine] = profile;
                    machines.Remove(profile.Machine);
                }
            }

            metrics.DriftReferences.Set(profiles.Count);
        }

        LogReloaded(logger, loaded.Count, model.Version);
    }

    /// <summary>
    /// One window of <paramref name="machine"/>: compared when it is normal and explained (<paramref name="observation"/>
    /// not null, <paramref name="inAlert"/> false). Returns the drift message to publish retained, or null.
    /// </summary>
    public LiveResult? Observe(string machine, DriftObservation? observation, bool inAlert)
    {
        if (!settings.Enabled)
        {
            return null;
        }

        if (inAlert || observation is null)
        {
            metrics.DriftWindows.WithLabels(inAlert ? "in_alert" : "unexplained").Inc();
            return null;
        }

        DriftMessage? publish = null;
        lock (gate)
        {
            if (!machines.TryGetValue(machine, out var state))
            {
                state = new MachineDrift(profiles.TryGetValue(machine, out var profile) ? new DriftDetector(profile, settings.CusumLimit) : null);
                machines[machine] = state;
            }

            if (state.Detector is null)
            {
                metrics.DriftWindows.WithLabels("no_reference").Inc();
                int seen = ++state.WithoutReference;
                int every = Math.Max(1, settings.MinReferenceWindows / 4);
                if (settings.BuildWhenReady && seen >= settings.MinReferenceWindows && (seen - settings.MinReferenceWindows) % every == 0)
                {
                    wanted.Writer.TryWrite(machine);
                }

                if (state.Published is null || ++state.SincePublished >= settings.PublishEveryWindows)
                {
                    // Republished now and then, so an operator sees how far the machine is from having one.
                    string when = settings.BuildWhenReady
                        ? string.Create(CultureInfo.InvariantCulture, $"it is built once the machine has {settings.MinReferenceWindows} normal windows ({seen} seen since the monitor started)")
                        : string.Create(CultureInfo.InvariantCulture, $"the nightly drift job builds it from {settings.MinReferenceWindows} normal windows or more ({seen} seen since the monitor started)");
                    publish = state.Published = new DriftMessage(machine, model.Version, observation.At, "no_reference", 0, [], null,
                        $"no drift reference for {machine} and model {model.Version} yet: {when}");
                    state.SincePublished = 0;
                }
            }
            else
            {
                var reading = state.Detector.Observe(observation);
                bool warming = reading.State == DriftStates.Warming;
                metrics.DriftWindows.WithLabels(warming ? "warming" : "compared").Inc();
                foreach (var kind in reading.Kinds)
                {
                    metrics.DriftDivergence.WithLabels(machine, kind.Kind).Set(kind.Value);
                    metrics.DriftThreshold.WithLabels(machine, kind.Kind).Set(kind.Threshold);
                    metrics.DriftCusum.WithLabels(machine, kind.Kind).Set(kind.Cusum);
                    metrics.DriftState.WithLabels(machine, kind.Kind).Set(kind.State == DriftStates.Drift ? 1 : 0);
                }

                state.SincePublished++;
                if (reading.Changed)
                {
                    Record(machine, state, reading);
                }

                if (reading.Changed || state.Published is null || state.Published.State != reading.State || state.SincePublished >= settings.PublishEveryWindows)
                {
                    publish = state.Published = Message(machine, state.Detector.Profile, reading);
                    state.SincePublished = 0;
                }
            }
        }

        return publish is null ? null : new LiveResult(machine, "drift", JsonSerializer.SerializeToUtf8Bytes(publish, LiveJsonContext.Default.DriftMessage), true);
    }

    /// <summary>Whether <paramref name="machine"/> has a reference for the deployed model version.</summary>
    public bool HasReference(string machine)
    {
        lock (gate)
        {
            return profiles.ContainsKey(machine);
        }
    }

    /// <summary>Every machine's latest drift message.</summary>
    public IReadOnlyList<DriftMessage> Current()
    {
        lock (gate)
        {
            return [.. machines.Values.Select(m => m.Published).OfType<DriftMessage>().OrderBy(m => m.Machine, StringComparer.Ordinal)];
        }
    }

    /// <summary>A machine's latest drift message and every compared distribution; null for a machine not seen.</summary>
    public DriftDetailResponse? Detail(string machine)
    {
        lock (gate)
        {
            if (!machines.TryGetValue(machine, out var state) || state.Published is null)
            {
                return null;
            }

            var distributions = state.Detector is { Latest.State: not DriftStates.Warming } detector
                ? detector.Distributions().Select(d => new DriftDistributionMessage(d.Kind, d.Component, d.Channel, d.Edges, d.Labels, d.Reference, d.Current, d.Divergence)).ToList()
                : [];
            return new DriftDetailResponse(state.Published, distributions);
        }
    }

    /// <summary>An idle machine is forgotten (its reference stays; comparing starts over when it returns).</summary>
    public void Forget(string machine)
    {
        lock (gate)
        {
            machines.Remove(machine);
        }
    }

    private void Record(string machine, MachineDrift state, DriftReading reading)
    {
        foreach (var kind in reading.Kinds)
        {
            string before = state.States.GetValueOrDefault(kind.Kind, DriftStates.Normal);
            if (kind.State == before)
            {
                continue;
            }

            state.States[kind.Kind] = kind.State;
            string summary = kind.State == DriftStates.Drift
                ? string.Create(CultureInfo.InvariantCulture, $"{kind.Kind} drift on {machine}: {kind.Moved.Describe()} (divergence {kind.Value:F3} bits, null level {kind.Threshold:F3})")
                : string.Create(CultureInfo.InvariantCulture, $"{kind.Kind} drift on {machine} over: back within the reference (divergence {kind.Value:F3} bits, null level {kind.Threshold:F3})");
            if (kind.State == DriftStates.Drift)
            {
                LogDrift(logger, summary);
            }
            else
            {
                LogDriftOver(logger, summary);
            }

            if (history is not null && !events.Writer.TryWrite(new DriftEvent(machine, model.Version, reading.At, kind.Kind, kind.State, kind.Value, kind.Threshold, kind.Moved, summary)))
            {
                metrics.DriftWindows.WithLabels("event_dropped").Inc();
                LogEventDropped(logger, machine, kind.Kind);
            }
        }
    }

    private DriftMessage Message(string machine, DriftProfile profile, DriftReading reading)
    {
        var reference = new DriftReferenceMessage(profile.BuiltAt, profile.From, profile.To, profile.Windows, profile.Rolling, profile.Thresholds.Input, profile.Thresholds.Score, profile.Thresholds.Explanation);
        var kinds = reading.Kinds.Select(k => new DriftKindMessage(k.Kind, k.Value, k.Threshold, k.Cusum, k.State, DriftMoveMessage.Of(k.Moved))).ToList();
        string summary = reading.State switch
        {
            DriftStates.Warming => string.Create(CultureInfo.InvariantCulture, $"warming up: {reading.Windows} of {profile.Rolling} normal windows since the comparison started"),
            DriftStates.Drift => string.Join("; ", reading.Kinds.Where(k => k.State == DriftStates.Drift).Select(k => $"{k.Kind} drift: {k.Moved.Describe()}")),
            _ => string.Create(CultureInfo.InvariantCulture, $"within the reference of {profile.From:yyyy-MM-dd HH:mm}..{profile.To:yyyy-MM-dd HH:mm} UTC"),
        };
        return new DriftMessage(machine, model.Version, reading.At, reading.State, reading.Windows, kinds, reference, summary);
    }

    private async Task WriteEventsAsync()
    {
        var batch = new List<DriftEvent>();
        while (await events.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < 256 && events.Reader.TryRead(out var e))
            {
                batch.Add(e);
            }

            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await history!.AddDriftEventsAsync(batch, CancellationToken.None).ConfigureAwait(false);
                    break;
                }
                catch (Exception ex) when (attempt < 5)
                {
                    LogEventWriteRetry(logger, attempt, ex.Message);
                    await Task.Delay(TimeSpan.FromSeconds(attempt)).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    metrics.DriftWindows.WithLabels("event_dropped").Inc(batch.Count);
                    LogEventWriteFailed(logger, batch.Count, ex);
                    break;
                }
            }
        }
    }

    private sealed class MachineDrift(DriftDetector? detector)
    {
        public DriftDetector? Detector { get; } = detector;

        public DriftMessage? Published { get; set; }

        public int SincePublished { get; set; }

        public int WithoutReference { get; set; }

        public Dictionary<string, string> States { get; } = new(StringComparer.Ordinal);
    }

    [LoggerMessage(EventId = 360, Level = LogLevel.Information, Message = "Drift references loaded: {Count} machines for model {Version}")]
    private static partial void LogReloaded(ILogger logger, int count, string version);

    [LoggerMessage(EventId = 367, Level = LogLevel.Warning, Message = "The drift reference of {Machine} has channels {Reference}, the model {Model}: not used; rebuild it (Drift:Rebuild or delete its row)")]
    private static partial void LogChannelsDiffer(ILogger logger, string machine, string reference, string model);

    [LoggerMessage(EventId = 368, Level = LogLevel.Error, Message = "Drift references not loaded; drift is not compared until they are")]
    private static partial void LogReferencesUnreadable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 361, Level = LogLevel.Warning, Message = "{Summary}")]
    private static partial void LogDrift(ILogger logger, string summary);

    [LoggerMessage(EventId = 362, Level = LogLevel.Information, Message = "{Summary}")]
    private static partial void LogDriftOver(ILogger logger, string summary);

    [LoggerMessage(EventId = 363, Level = LogLevel.Warning, Message = "Drift event of {Machine} ({Kind}) dropped: the history's drift event queue is full")]
    private static partial void LogEventDropped(ILogger logger, string machine, string kind);

    [LoggerMessage(EventId = 364, Level = LogLevel.Warning, Message = "Writing drift events failed (attempt {Attempt}), retrying: {Error}")]
    private static partial void LogEventWriteRetry(ILogger logger, int attempt, string error);

    [LoggerMessage(EventId = 365, Level = LogLevel.Error, Message = "Writing {Count} drift events failed; they are dropped (counted as event_dropped)")]
    private static partial void LogEventWriteFailed(ILogger logger, int count, Exception exception);
}
