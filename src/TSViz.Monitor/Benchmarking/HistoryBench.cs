using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using TSViz.Explain;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;
using TSViz.Plugins.History.Sqlite;

namespace TSViz.Monitor.Benchmarking;

/// <summary>
/// `bench --only history`: what the SQLite history sustains and what it costs on disk, with records shaped like the
/// live path's (real explanations of the shipped model, the published JSON as the full explanation). Measured side by
/// side: compact records only, and compact records with full explanations for a share of windows.
/// </summary>
internal static class HistoryBench
{
    public static void Run(TextWriter output, Explainer explainer, float[] windows, int size, double seconds)
    {
        int channels = explainer.Metadata.Channels.Count;
        int length = explainer.Metadata.WindowLength;
        var explanations = explainer.Explain(windows, size);
        var payloads = explanations.Select((e, i) => JsonSerializer.SerializeToUtf8Bytes(new ExplanationMessage(
            $"m{i % 40}:{i}", $"m{i % 40}", "anomaly-cnn 1.0.0", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, e.Score, e.Score >= 0.5f, "normal",
            e.Differentiated, e.GradientsVanished, explainer.Metadata.Channels.Select((c, k) => (c, k)).ToDictionary(p => p.c, p => e.ChannelContributions[p.k]),
            explainer.Metadata.Channels[0], ChannelRows.Of(e.Saliency, channels, length),
            e.TopSteps.Select(s => new TopStepMessage(s.ChannelName, s.Step, s.Saliency)).ToList(),
            e.Layers.SelectMany(l => l.Ranking.Take(3).Select(f => new TopFilterMessage(l.Name, f, l.Influence[f], l.Scaled[f]))).ToList(),
            new RobustnessMessage("fgsm", 0.1, e.Score, e.Score, false, null, null), null, null, new TimingsMessage(1, 1, 1, size)),
            LiveJsonContext.Default.ExplanationMessage)).ToArray();

        output.WriteLine($"{"history store (SQLite, WAL, 256-window transactions)",-58} {"windows/s",12} {"bytes/window",14}");
        foreach (var (name, share) in new[] { ("compact records only (baseline)", 0.0), ("compact + full explanation for 2 % of windows", 0.02), ("compact + full explanation for every window", 1.0) })
        {
            string folder = Path.Combine(Path.GetTempPath(), "tsviz-bench-history", Guid.NewGuid().ToString("N"));
            var store = new SqliteHistoryStore(Path.Combine(folder, "history.db"));
            store.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
            long written = 0;
            int batchNumber = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < seconds)
            {
                var batch = new List<WindowRecord>(size);
                for (int i = 0; i < size; i++)
                {
                    var e = explanations[i];
                    long n = (batchNumber * (long)size) + i;
                    var end = DateTimeOffset.UnixEpoch.AddYears(56).AddMilliseconds(n * 100);
                    batch.Add(new WindowRecord
                    {
                        Id = string.Create(CultureInfo.InvariantCulture, $"m{i % 40}:{end:yyyy-MM-ddTHH:mm:ss.fffZ}:anomaly-cnn/1.0.0"),
                        Machine = $"m{i % 40}",
                        ModelVersion = "anomaly-cnn 1.0.0",
                        WindowStart = end.AddSeconds(-5),
                        WindowEnd = end,
                        Score = e.Score,
                        Decision = e.Score >= 0.5f,
                        ReasonCode = e.Score >= 0.5f ? "anomaly" : "normal",
                        ChannelContributions = explainer.Metadata.Channels.Select((c, k) => (c, k)).ToDictionary(p => p.c, p => e.ChannelContributions[p.k]),
                        DominantChannel = explainer.Metadata.Channels[Array.IndexOf(e.ChannelContributions, e.ChannelContributions.Max())],
                        TopStepChannel = e.TopSteps[0].ChannelName,
                        TopStep = e.TopSteps[0].Step,
                        TopFilters = e.Layers.SelectMany(l => l.Ranking.Take(3).Select(f => new InfluentialFilter(l.Name, f, l.Influence[f], l.Scaled[f]))).ToList(),
                        ScoreAfterFgsm = e.Score,
                        Detail = share > 0 && (n % (long)Math.Round(1 / share)) == 0
                            ? new WindowDetail(payloads[i], windows.AsSpan(i * channels * length, channels * length).ToArray(), channels, length)
                            : null,
                    });
                }

                written += store.WriteWindowsAsync(batch, CancellationToken.None).GetAwaiter().GetResult();
                batchNumber++;
            }

            double rate = written / watch.Elapsed.TotalSeconds;
            SqliteConnection.ClearAllPools(); // checkpoints the WAL into the file on close
            long bytes = Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-58} {rate,12:N0} {bytes / (double)written,14:N0}"));
            Directory.Delete(folder, recursive: true);
        }
    }
}
