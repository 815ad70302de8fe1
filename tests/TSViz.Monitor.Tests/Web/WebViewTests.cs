using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using TSViz.Monitor.Live;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Web;

/// <summary>The operator web view in a real headless Chromium (Debian's), with the simulator injecting an anomaly.</summary>
public sealed partial class WebViewTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task AlertsListAndAlertPage_ShowTheInjectedAnomalyWithSaliencyPeakingOnItsChannel()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install the Debian package chromium (scripts/test.sh does).");
        int httpPort = Loopback.FreePort();
        int mqttPort = Loopback.FreePort();
        await using var app = MonitorHost.Build(new Dictionary<string, string?>
        {
            ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
            ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
            ["Monitor:HttpUrl"] = $"http://127.0.0.1:{httpPort}",
            ["Monitor:Mqtt:Port"] = mqttPort.ToString(CultureInfo.InvariantCulture),
            ["Monitor:Mqtt:ClientId"] = $"tsviz-web-{mqttPort}",
            ["Monitor:History:FullExplanationSampleRate"] = "1",
            ["Monitor:Simulator:Machines"] = "2",
            ["Monitor:Simulator:RateHz"] = "50",
            ["Monitor:Simulator:AnomalyEverySeconds"] = "0",
            ["Monitor:Simulator:Inject:0"] = "m2:temperature@3",
        });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await app.StartAsync(cancel.Token);
        try
        {
            string baseUrl = $"http://127.0.0.1:{httpPort}";
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
            string? alertId = null;
            while (alertId is null)
            {
                await Task.Delay(500, cancel.Token);
                var alerts = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/alerts", UriKind.Relative), cancel.Token);
                alertId = alerts.GetProperty("items").EnumerateArray().Where(a => a.GetProperty("machine").GetString() == "m2").Select(a => a.GetProperty("id").GetString()).FirstOrDefault();
            }

            string shots = Path.Combine(RepositoryPaths.Root, "artifacts", "screenshots");
            Directory.CreateDirectory(shots);

            // The live list shows the alert (rendered by the page's script from the API).
            string list = await Render($"{baseUrl}/#/", Path.Combine(shots, "alerts.png"), cancel.Token);
            NoPageErrors(list);
            Assert.Matches(RowPattern(), list);

            // The alert page: the window's channels with their saliency, peaking on the injected channel.
            string page = await Render($"{baseUrl}/#/alert/{Uri.EscapeDataString(alertId)}", Path.Combine(shots, "alert.png"), cancel.Token);
            NoPageErrors(page);
            string saliency = Section(page, "saliency");
            var peaks = FigurePattern().Matches(saliency).ToDictionary(
                m => m.Groups["channel"].Value,
                m => BarPattern().Matches(m.Groups["body"].Value).Select(b => double.Parse(b.Groups["s"].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max());
            Assert.Equal(["pressure", "temperature", "torque"], peaks.Keys.Order());
            Assert.Equal("temperature", peaks.MaxBy(p => p.Value).Key);
            Assert.Contains("Channel contributions", Section(page, "contributions"), StringComparison.Ordinal);
            Assert.Contains("conv1", Section(page, "filters"), StringComparison.Ordinal);
            Assert.Contains("FGSM step", Section(page, "robustness"), StringComparison.Ordinal);
            Assert.Contains("Has this happened before?", Section(page, "similar"), StringComparison.Ordinal);
            Assert.Contains("False alarm", Section(page, "feedback"), StringComparison.Ordinal);

            // The network explorer, after the nightly analysis ran (triggered by hand) on the stored windows.
            using (var trigger = await http.PostAsync(new Uri("/api/jobs/analysis/trigger", UriKind.Relative), null, cancel.Token))
            {
                Assert.Equal(System.Net.HttpStatusCode.Accepted, trigger.StatusCode);
            }

            while ((await http.GetFromJsonAsync<JsonElement>(new Uri("/api/analyses?job=analysis", UriKind.Relative), cancel.Token)).GetProperty("items").GetArrayLength() == 0)
            {
                await Task.Delay(500, cancel.Token);
            }

            string explorer = await Render($"{baseUrl}/#/model", Path.Combine(shots, "model.png"), cancel.Token);
            NoPageErrors(explorer);
            var layers = LayerRowPattern().Matches(Section(explorer, "architecture")).Select(m => m.Groups["layer"].Value).ToList();
            Assert.Equal(["conv1", "conv2", "conv3"], layers);
            var shown = ShownPattern().Matches(Section(explorer, "influence")).ToDictionary(m => m.Groups["layer"].Value, m => int.Parse(m.Groups["shown"].Value, CultureInfo.InvariantCulture));
            Assert.Equal(layers, shown.Keys);
            Assert.All(shown.Values, n => Assert.True(n > 0));
            Assert.Equal(layers, DatasetInfluencePattern().Matches(Section(explorer, "analysis")).Select(m => m.Groups["layer"].Value));
            Assert.Contains("Faithfulness", Section(explorer, "analysis"), StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The page's DOM after its scripts ran (headless Chromium), and a screenshot of it.</summary>
    private static async Task<string> Render(string url, string screenshot, CancellationToken cancellationToken)
    {
        string[] common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=8000", "--window-size=1280,2400"];
        var dom = await Run([.. common, "--dump-dom", url], cancellationToken);
        await Run([.. common, $"--screenshot={screenshot}", url], cancellationToken);
        Assert.True(File.Exists(screenshot), $"no screenshot at {screenshot}");
        return dom;
    }

    private static async Task<string> Run(string[] arguments, CancellationToken cancellationToken)
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
        return await output;
    }

    /// <summary>The page records every console error, uncaught exception and failed request in #tsviz-errors.</summary>
    private static void NoPageErrors(string dom)
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

    [GeneratedRegex("<tr data-alert-id=\"[^\"]+\" data-machine=\"m2\" data-channel=\"temperature\">")]
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

    [GeneratedRegex("<pre id=\"tsviz-errors\"[^>]*>(?<text>.*?)</pre>", RegexOptions.Singleline)]
    private static partial Regex ErrorsPattern();
}
