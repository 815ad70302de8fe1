using System.Globalization;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.Live;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Web;

/// <summary>
/// The operator web view at / (plain HTML, CSS and JavaScript embedded in the executable: no front-end build), and the
/// on-demand analysis it needs besides the history API: the adversarial window of an alert's peak.
/// </summary>
internal static class WebView
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
    };

    public static void MapWebView(this WebApplication app)
    {
        app.MapGet("/", () => Resource("index.html")).ExcludeFromDescription();
        app.MapGet("/static/{file}", (string file) => Resource(file)).ExcludeFromDescription();

        app.MapGet("/api/alerts/{id}/adversarial", async (string id, string? eps, IHistoryStore store, LiveModel model, CancellationToken ct) =>
        {
            id = Uri.UnescapeDataString(id);
            double epsilon = 0.1;
            if (eps is not null && (!double.TryParse(eps, NumberStyles.Float, CultureInfo.InvariantCulture, out epsilon) || epsilon is <= 0 or > 5))
            {
                return Results.Problem(statusCode: 400, title: "Invalid request parameter", detail: "'eps' must be a number in (0, 5].", extensions: new Dictionary<string, object?> { ["parameter"] = "eps" });
            }

            var alert = await store.GetAlertAsync(id, ct).ConfigureAwait(false);
            var peak = alert is null ? null : await store.GetWindowAsync(alert.PeakWindowId, ct).ConfigureAwait(false);
            if (peak?.Detail is not { } detail)
            {
                return Results.Problem(statusCode: 404, title: "No stored input", detail: $"No alert '{id}' with a stored peak window in the history.", extensions: new Dictionary<string, object?> { ["parameter"] = "id" });
            }

            if (detail.Channels != model.Metadata.Channels.Count || detail.Length != model.Metadata.WindowLength || peak.ModelVersion != model.Version)
            {
                return Results.Problem(statusCode: 409, title: "Other model", detail: $"The alert was raised by {peak.ModelVersion}; the deployed model is {model.Version}.");
            }

            using var turn = await model.TakeExplainerAsync(ct).ConfigureAwait(false);
            var result = model.Explainer.Fgsm(detail.Input, 1, epsilon)[0];
            return Results.Json(new
            {
                method = result.Method,
                epsilon = result.Epsilon,
                scoreBefore = result.ScoreBefore,
                scoreAfter = result.ScoreAfter,
                flipped = result.Flipped,
                window = ChannelRows.Of(result.Window, detail.Channels, detail.Length),
                adversarialWindow = ChannelRows.Of(result.AdversarialWindow, detail.Channels, detail.Length),
            });
        }).WithTags("history").WithName("AdversarialPeak").WithSummary("The peak window of an alert under one FGSM step (model input space, standardised), scores before and after.");
    }

    /// <summary>The network explorer's data: the deployed model's architecture, and one stored window's filter influence.</summary>
    public static void MapExplorerApi(this WebApplication app)
    {
        app.MapGet("/api/model", (LiveModel model) => Results.Json(new
        {
            name = model.Metadata.Name,
            version = model.Metadata.Version,
            channels = model.Metadata.Channels,
            windowLength = model.Metadata.WindowLength,
            threshold = model.Threshold,
            layers = model.Explainer.Graph.Layers.Select(l => new { name = l.Name, index = l.Index, filters = l.Filters, outputLength = l.OutputLength, activation = l.Activation }),
        })).WithTags("model").WithName("Model").WithSummary("The deployed model: channels, window length, threshold and its convolutional layers (filters, output length, activation).");

        app.MapGet("/api/windows/{id}/influence", async (string id, IHistoryStore store, LiveModel model, CancellationToken ct) =>
        {
            id = Uri.UnescapeDataString(id);
            var window = await store.GetWindowAsync(id, ct).ConfigureAwait(false);
            if (window?.Detail is not { } detail)
            {
                return Results.Problem(statusCode: 404, title: "No stored input", detail: $"No window '{id}' with a stored input in the history.", extensions: new Dictionary<string, object?> { ["parameter"] = "id" });
            }

            if (detail.Channels != model.Metadata.Channels.Count || detail.Length != model.Metadata.WindowLength || window.ModelVersion != model.Version)
            {
                return Results.Problem(statusCode: 409, title: "Other model", detail: $"The window was scored by {window.ModelVersion}; the deployed model is {model.Version}.");
            }

            using var turn = await model.TakeExplainerAsync(ct).ConfigureAwait(false);
            var e = model.Explainer.Explain(detail.Input, 1, new Explain.Attribution.ExplainOptions { IncludeReceivedSaliency = false })[0];
            return Results.Json(new
            {
                id,
                score = e.Score,
                layers = e.Layers.Select(l => new { name = l.Name, influence = l.Influence, scaled = l.Scaled, ranking = l.Ranking }),
            });
        }).WithTags("model").WithName("WindowInfluence").WithSummary("Influence of every filter of every layer (Eq. 16, raw and scaled 0-1, ranked) for one stored window, on the deployed weights.");
    }

    private static IResult Resource(string file)
    {
        var stream = typeof(WebView).Assembly.GetManifestResourceStream("web/" + file);
        return stream is null || !ContentTypes.TryGetValue(Path.GetExtension(file), out var type)
            ? Results.NotFound()
            : Results.Stream(stream, type);
    }
}
