using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Web;

/// <summary>The operator web view in a real headless Chromium (Debian's), with the simulator injecting an anomaly.</summary>
public sealed partial class WebViewTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Pages_ShowTheInjectedAnomalyItsSaliencyAndEveryExplorerLevel()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install the Debian package chromium (scripts/test.sh does).");
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var monitor = await WebTestMonitor.StartAsync(cancel.Token);
        string baseUrl = monitor.BaseUrl;
        var http = monitor.Http;
        string alertId = monitor.AlertId;
        string shots = Path.Combine(RepositoryPaths.Root, "artifacts", "screenshots");
        Directory.CreateDirectory(shots);

        // The live list shows the alert (rendered by the page's script from the API) with the dominant channel the API
        // gives it. The alert is live, so its peak (and with it the dominant channel) may move while the page renders:
        // the row must show the API's channel from just before or just after.
        string before = await DominantChannelAsync(http, alertId, cancel.Token);
        string list = await Render($"{baseUrl}/#/", Path.Combine(shots, "alerts.png"), cancel.Token);
        string after = await DominantChannelAsync(http, alertId, cancel.Token);
        NoPageErrors(list);
        var row = RowPattern().Matches(list).SingleOrDefault(m => m.Groups["id"].Value == alertId);
        string rows = Regex.Match(list, "<tbody id=\"alert-rows\">.*?</tbody>", RegexOptions.Singleline).Value;
        Assert.True(row is not null, $"no row for alert {alertId} on line1/m2 in the list:\n{rows}");
        Assert.True(row.Groups["channel"].Value == before || row.Groups["channel"].Value == after, $"row channel {row.Groups["channel"].Value}, API {before} then {after}:\n{rows}");

        // The alert page: the window's channels with their saliency, peaking on the injected channel.
        var checkBefore = await FaithfulnessAsync(http, alertId, cancel.Token);
        string? patternBefore = null, counterfactualBefore = null;
        while (counterfactualBefore is null || patternBefore is null)
        {
            // Computed off the live path milliseconds after the peak (the pattern stored in the background as the alert
            // is published); the page shows them once they are there.
            counterfactualBefore = await CounterfactualSummaryAsync(http, alertId, cancel.Token);
            patternBefore = await PatternSummaryAsync(http, alertId, cancel.Token);
            await Task.Delay(counterfactualBefore is null || patternBefore is null ? 200 : 0, cancel.Token);
        }

        string page = await Render($"{baseUrl}/#/alert/{Uri.EscapeDataString(alertId)}", Path.Combine(shots, "alert.png"), cancel.Token);
        var checkAfter = await FaithfulnessAsync(http, alertId, cancel.Token);
        string? counterfactualAfter = await CounterfactualSummaryAsync(http, alertId, cancel.Token);
        string? patternAfter = await PatternSummaryAsync(http, alertId, cancel.Token);
        NoPageErrors(page);

        // What would have made it normal: the API's sentence (of the peak before or after the render), the injected
        // temperature spike set back, drawn over the received temperature.
        string counterfactual = Section(page, "counterfactual");
        string said = Regex.Match(counterfactual, "<p id=\"counterfactual-sentence\">(?<s>.*?)</p>", RegexOptions.Singleline).Groups["s"].Value;
        Assert.True(said == counterfactualBefore || said == counterfactualAfter, $"page: {said}\nAPI: {counterfactualBefore} then {counterfactualAfter}");
        Assert.StartsWith("Normal (score ", said, StringComparison.Ordinal);
        Assert.Contains("temperature at ", said, StringComparison.Ordinal);
        Assert.Equal(["temperature"], FigurePattern().Matches(counterfactual).Select(m => m.Groups["channel"].Value));
        Assert.Contains("<title>counterfactual: the values that score normal</title>", counterfactual, StringComparison.Ordinal);

        // Whether this kind of fault was seen before, as the API says it (the live alerts of the simulator may add to it).
        string pattern = Regex.Match(Section(page, "pattern"), "<p id=\"pattern-sentence\">(?<s>.*?)</p>", RegexOptions.Singleline).Groups["s"].Value;
        Assert.True(pattern.Length > 0 && (pattern == patternBefore || pattern == patternAfter), $"page: {pattern}\nAPI: {patternBefore} then {patternAfter}");

        // First, in plain words, whether the explanation holds: the API's check (from just before or just after the
        // render: the live alert's peak may move), and the injected spike passes it.
        string faithfulness = Section(page, "faithfulness");
        string sentence = Regex.Replace(Regex.Match(faithfulness, "<p id=\"faithfulness-sentence\">(?<s>.*?)</p>", RegexOptions.Singleline).Groups["s"].Value, "\\s+", " ");
        Assert.True(
            new[] { checkBefore, checkAfter }.Any(c => sentence.StartsWith(
                FormattableString.Invariant($"Removing the highlighted points (the top 5 %, 8 points) drops the score from {c.Score:F3} to {c.Deletion:F3}; removing as many random points leaves {c.Random:F3}."), StringComparison.Ordinal)),
            $"page: {sentence}\nAPI: {checkBefore} then {checkAfter}");
        Assert.Equal("passed", checkAfter.Verdict);
        Assert.Contains("Explanation check passed.", faithfulness, StringComparison.Ordinal);
        Assert.Contains("<span class=\"check-passed\">passed</span>", list, StringComparison.Ordinal);
        string saliency = Section(page, "saliency");
        var peaks = FigurePattern().Matches(saliency).ToDictionary(
            m => m.Groups["channel"].Value,
            m => BarPattern().Matches(m.Groups["body"].Value).Select(b => double.Parse(b.Groups["s"].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max());
        Assert.Equal(["pressure", "temperature", "torque"], peaks.Keys.Order());
        Assert.Equal("temperature", peaks.MaxBy(p => p.Value).Key);
        Assert.Contains("Channel contributions", Section(page, "contributions"), StringComparison.Ordinal);
        Assert.Contains("conv1", Section(page, "filters"), StringComparison.Ordinal);
        // every top filter with its activation over the window
        Assert.Equal(Regex.Count(Section(page, "filters"), "<td class=\"activation\""), Regex.Count(Section(page, "filters"), "<td class=\"activation\" data-layer=\"conv[1-3]\" data-filter=\"[0-9]+\"><svg class=\"spark\""));
        Assert.True(Regex.Count(Section(page, "filters"), "<td class=\"activation\"") >= 3);
        Assert.Contains("FGSM step", Section(page, "robustness"), StringComparison.Ordinal);
        Assert.Contains("Has this happened before?", Section(page, "similar"), StringComparison.Ordinal);
        Assert.Contains("False alarm", Section(page, "feedback"), StringComparison.Ordinal);

        // The network explorer, after the nightly analysis ran (triggered by hand) on the stored windows.
        var analysis = await monitor.RunAnalysisAsync(cancel.Token);
        string windowId = (await http.GetFromJsonAsync<JsonElement>(new Uri($"/api/alerts/{Uri.EscapeDataString(alertId)}", UriKind.Relative), cancel.Token))
            .GetProperty("alert").GetProperty("peakWindowId").GetString()!;
        string window = Uri.EscapeDataString(windowId);
        Assert.Contains($"<a href=\"#/model/{window}\">Explore this window in the network explorer</a>", page, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"#/model/{window}/conv1/", Section(page, "filters"), StringComparison.Ordinal);
        var influence = await http.GetFromJsonAsync<JsonElement>(new Uri($"/api/windows/{window}/influence", UriKind.Relative), cancel.Token);
        // Inverse optimisation is computed once per target and kept; asking first keeps the page's wait short.
        var inversion = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/model/inversion?target=1", UriKind.Relative), cancel.Token);
        Assert.Equal(3, inversion.GetProperty("starts").GetArrayLength());
        Assert.All(inversion.GetProperty("starts").EnumerateArray(), s => Assert.True(s.GetProperty("scoreEnd").GetDouble() > 0.9, s.GetProperty("scoreEnd").ToString()));

        string explorer = await Render($"{baseUrl}/#/model/{window}", Path.Combine(shots, "model.png"), cancel.Token, height: 7200);
        NoPageErrors(explorer);

        // Level 1: the architecture.
        var layers = LayerRowPattern().Matches(Section(explorer, "architecture")).Select(m => m.Groups["layer"].Value).ToList();
        Assert.Equal(["conv1", "conv2", "conv3"], layers);

        // Level 2: every layer's filters above the percentile, and the selected filter's own input saliency.
        var shown = ShownPattern().Matches(Section(explorer, "influence")).ToDictionary(m => m.Groups["layer"].Value, m => int.Parse(m.Groups["shown"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(layers, shown.Keys);
        Assert.All(shown.Values, n => Assert.True(n > 0));
        Assert.Equal(["pressure", "temperature", "torque"], FigurePattern().Matches(Section(explorer, "selected")).Select(m => m.Groups["channel"].Value));

        // Recursive highlighting, by default from the last layer's most influential filter at its strongest activation:
        // the highlighted input points are exactly the API's, inside that activation's receptive field.
        var conv3 = influence.GetProperty("layers")[2];
        int filter = conv3.GetProperty("ranking")[0].GetInt32();
        var activation = conv3.GetProperty("activations")[filter].EnumerateArray().Select(a => a.GetDouble()).ToList();
        int step = activation.IndexOf(activation.Max());
        await AssertTraceAsync(explorer, http, window, "conv3", filter, step, cancel.Token);
        var traced = HighlightPattern().Matches(Section(explorer, "trace")).Select(m => int.Parse(m.Groups["step"].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.All(traced, t => Assert.InRange(t, 4 * step, (4 * step) + 17));
        Assert.Equal(["conv2", "conv1"], TraceLevelPattern().Matches(Section(explorer, "trace")).Select(m => m.Groups["level"].Value));

        // Levels 3 and 4: the last layer's grid, every filter coloured by its nightly cluster, and the silhouette curve.
        string grid = Section(explorer, "grid");
        var conv3Summary = analysis.GetProperty("layers")[2];
        var cells = CellPattern().Matches(grid).ToDictionary(m => int.Parse(m.Groups["filter"].Value, CultureInfo.InvariantCulture), m => int.Parse(m.Groups["cluster"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(64, cells.Count);
        var labels = conv3Summary.GetProperty("labels").EnumerateArray().Select(l => l.GetInt32()).ToList();
        Assert.All(cells, cell => Assert.Equal(labels[cell.Key], cell.Value));
        Assert.Contains("data-coloured=\"yes\"", grid, StringComparison.Ordinal);
        var silhouette = SilhouettePattern().Match(grid);
        Assert.True(silhouette.Success, "no silhouette curve");
        Assert.Equal(conv3Summary.GetProperty("k").GetInt32().ToString(CultureInfo.InvariantCulture), silhouette.Groups["k"].Value);
        int finite = conv3Summary.GetProperty("silhouetteByK").EnumerateArray().Count(v => v.ValueKind == JsonValueKind.Number);
        Assert.InRange(finite, 2, 62); // k = 2..63 for 64 filters
        Assert.Equal(finite, int.Parse(silhouette.Groups["points"].Value, CultureInfo.InvariantCulture));

        // Inverse optimisation: what the model takes for an anomaly, one chart per channel.
        string inverted = Section(explorer, "inversion");
        var end = InversionPattern().Match(inverted);
        Assert.True(end.Success, "no inversion result");
        Assert.True(double.Parse(end.Groups["score"].Value, CultureInfo.InvariantCulture) > 0.9, end.Value);
        Assert.Equal(3, FigurePattern().Count(inverted));

        // The pruning view.
        Assert.Equal(layers, DatasetInfluencePattern().Matches(Section(explorer, "analysis")).Select(m => m.Groups["layer"].Value));
        Assert.Contains("Faithfulness", Section(explorer, "analysis"), StringComparison.Ordinal);

        // A chosen activation in the middle layer, from the address (as the step buttons navigate).
        string chosen = await Render($"{baseUrl}/#/model/{window}/conv2/3/10", Path.Combine(shots, "model-trace-conv2.png"), cancel.Token, height: 7200);
        NoPageErrors(chosen);
        await AssertTraceAsync(chosen, http, window, "conv2", 3, 10, cancel.Token);
        Assert.Equal(["conv1"], TraceLevelPattern().Matches(Section(chosen, "trace")).Select(m => m.Groups["level"].Value));
    }

    /// <summary>
    /// The page's DOM after its scripts ran (headless Chromium), and a screenshot of it. Chromium writes every console
    /// message of the page to its log: the page writes none, so any is a failure (errors, uncaught exceptions).
    /// </summary>
    internal static async Task<string> Render(string url, string screenshot, CancellationToken cancellationToken, int height = 2400)
    {
        string[] common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=10000", $"--window-size=1280,{height}"];
        var (dom, log) = await Run([.. common, "--enable-logging=stderr", "--v=0", "--dump-dom", url], cancellationToken);
        var console = log.Split('\n').Where(line => line.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();
        Assert.True(console.Count == 0, $"console messages on {url}:\n{string.Join('\n', console)}");
        await Run([.. common, $"--screenshot={screenshot}", url], cancellationToken);
        Assert.True(File.Exists(screenshot), $"no screenshot at {screenshot}");
        return dom;
    }

    private static async Task<(double Score, double Deletion, double Random, string Verdict)> FaithfulnessAsync(HttpClient http, string alertId, CancellationToken cancellationToken)
    {
        var check = (await http.GetFromJsonAsync<JsonElement>(new Uri($"/api/alerts/{Uri.EscapeDataString(alertId)}", UriKind.Relative), cancellationToken))
            .GetProperty("alert").GetProperty("faithfulness");
        return (check.GetProperty("score").GetDouble(), check.GetProperty("deletionScore").GetDouble(), check.GetProperty("randomScore").GetDouble(), check.GetProperty("verdict").GetString()!);
    }

    private static async Task<string?> PatternSummaryAsync(HttpClient http, string alertId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri($"/api/alerts/{Uri.EscapeDataString(alertId)}/pattern", UriKind.Relative), cancellationToken);
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("summary").GetString() : null;
    }

    private static async Task<string?> CounterfactualSummaryAsync(HttpClient http, string alertId, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri($"/api/alerts/{Uri.EscapeDataString(alertId)}/counterfactual", UriKind.Relative), cancellationToken);
        return response.IsSuccessStatusCode
            ? (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("counterfactual").GetProperty("summary").GetString()
            : null;
    }

    private static async Task<string> DominantChannelAsync(HttpClient http, string alertId, CancellationToken cancellationToken)
        => (await http.GetFromJsonAsync<JsonElement>(new Uri($"/api/alerts/{Uri.EscapeDataString(alertId)}", UriKind.Relative), cancellationToken))
            .GetProperty("alert").GetProperty("dominantChannel").GetString() ?? "";

    /// <summary>The page traces <paramref name="layer"/>/<paramref name="filter"/> at <paramref name="step"/> and highlights exactly the input points the API names.</summary>
    private static async Task AssertTraceAsync(string dom, HttpClient http, string window, string layer, int filter, int step, CancellationToken cancellationToken)
    {
        string trace = Section(dom, "trace");
        Assert.Contains($"<div data-layer=\"{layer}\" data-filter=\"{filter}\" data-step=\"{step}\" id=\"trace-target\">", trace, StringComparison.Ordinal);
        var api = await http.GetFromJsonAsync<JsonElement>(new Uri($"/api/windows/{window}/trace?layer={layer}&filter={filter}&step={step}", UriKind.Relative), cancellationToken);
        var input = api.GetProperty("levels").EnumerateArray().Single(l => l.GetProperty("level").GetString() == "input").GetProperty("points").EnumerateArray()
            .Select(p => (p.GetProperty("row").GetInt32(), p.GetProperty("step").GetInt32())).ToList();
        Assert.NotEmpty(input);
        string[] channels = ["pressure", "temperature", "torque"];
        var shown = TraceInputPattern().Matches(trace).SelectMany(m => HighlightPattern().Matches(m.Groups["body"].Value)
            .Select(h => (Array.IndexOf(channels, m.Groups["channel"].Value), int.Parse(h.Groups["step"].Value, CultureInfo.InvariantCulture)))).ToList();
        Assert.Equal(input, shown);
    }

    private static async Task<(string Output, string Error)> Run(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {await error}");
        return (await output, await error);
    }

    /// <summary>The page records every console error, uncaught exception and failed request in #tsviz-errors.</summary>
    internal static void NoPageErrors(string dom)
    {
        var errors = ErrorsPattern().Match(dom);
        Assert.True(errors.Success, "the page has no #tsviz-errors element");
        Assert.True(string.IsNullOrWhiteSpace(errors.Groups["text"].Value), $"page errors: {errors.Groups["text"].Value}");
    }

    private static string Section(string dom, string id)
    {
        var match = Regex.Match(dom, $"<section id=\"{id}\">(?<body>.*?)</section>", RegexOptions.Singleline);
        Assert.True(match.Success, $"the page has no section #{id}");
        return match.Groups["body"].Value;
    }

    [GeneratedRegex("<tr data-alert-id=\"(?<id>[^\"]+)\" data-machine=\"line1/m2\" data-channel=\"(?<channel>[a-z]*)\">")]
    private static partial Regex RowPattern();

    [GeneratedRegex("<figure class=\"channel\" data-channel=\"(?<channel>[a-z]+)\">(?<body>.*?)</figure>", RegexOptions.Singleline)]
    private static partial Regex FigurePattern();

    [GeneratedRegex("<rect data-s=\"(?<s>[0-9.eE+-]+)\"")]
    private static partial Regex BarPattern();

    [GeneratedRegex("<tr data-layer=\"(?<layer>[^\"]+)\">")]
    private static partial Regex LayerRowPattern();

    [GeneratedRegex("<figure class=\"layer\" data-layer=\"(?<layer>[^\"]+)\" data-shown=\"(?<shown>[0-9]+)\">")]
    private static partial Regex ShownPattern();

    [GeneratedRegex("<figure class=\"dataset-influence\" data-layer=\"(?<layer>[^\"]+)\">")]
    private static partial Regex DatasetInfluencePattern();

    [GeneratedRegex("<figure class=\"trace-input\" data-channel=\"(?<channel>[a-z]+)\" data-highlighted=\"[0-9]+\">(?<body>.*?)</figure>", RegexOptions.Singleline)]
    private static partial Regex TraceInputPattern();

    [GeneratedRegex("<circle class=\"highlight\" data-step=\"(?<step>[0-9]+)\"")]
    private static partial Regex HighlightPattern();

    [GeneratedRegex("<figure class=\"trace-level\" data-level=\"(?<level>[^\"]+)\"")]
    private static partial Regex TraceLevelPattern();

    [GeneratedRegex("<button type=\"button\" class=\"cell\"[^>]*? data-filter=\"(?<filter>[0-9]+)\" data-cluster=\"(?<cluster>[0-9]+)\"")]
    private static partial Regex CellPattern();

    [GeneratedRegex("<figure class=\"silhouette\" data-layer=\"conv3\" data-points=\"(?<points>[0-9]+)\" data-k=\"(?<k>[0-9]+)\">")]
    private static partial Regex SilhouettePattern();

    [GeneratedRegex("<div data-target=\"1\" data-score-end=\"(?<score>[0-9.eE+-]+)\" id=\"inversion-result\">")]
    private static partial Regex InversionPattern();

    [GeneratedRegex("<pre id=\"tsviz-errors\"[^>]*>(?<text>.*?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ErrorsPattern();
}
