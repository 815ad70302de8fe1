using Microsoft.AspNetCore.Http.HttpResults;
using TSViz.Explain;
using TSViz.Explain.Robustness;
using TSViz.Monitor.Explaining;
using TSViz.Monitor.History;
using TSViz.Monitor.Live;
using TSViz.Monitor.Security;
using TSViz.Plugins.History;

namespace TSViz.Monitor.Web;

/// <summary>
/// The operator web view at / (plain HTML, CSS and JavaScript modules embedded in the executable: no front-end
/// build), and the on-demand analysis it needs besides the history API: the adversarial window of an alert's peak
/// (on the <see cref="InteractiveExplainer"/>, within its limit).
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
        // The page and its script hold no data: they load without credentials so the page can ask for them (its
        // sign-in dialog); every request for data goes through the API's roles.
        app.MapGet("/", () => Resource("index.html")).ExcludeFromDescription().AllowAnonymous();
        // The script is ES modules: the entry /static/app.js imports the others from /static/js/ (a catch-all, so one
        // route serves both levels; only embedded resources are served, so no other file can be named).
        app.MapGet("/static/{**file}", (string? file) => Resource(file)).ExcludeFromDescription().AllowAnonymous();

        app.MapGet("/api/alerts/{id}/adversarial", AdversarialPeak).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithTags("history").WithName("AdversarialPeak").RequireAuthorization(Roles.Engineer).RequireRateLimiting(HttpSecurity.Costly).ProducesProblem(StatusCodes.Status429TooManyRequests).WithSummary("The peak window of an alert under one FGSM step (model input space, standardised), scores before and after.");
    }

    public static async Task<Results<Ok<AdversarialPeakResponse>, ProblemHttpResult, InteractiveExplainer.TooManyRequests>> AdversarialPeak(string id, [AsParameters] AdversarialRequest request,
        IHistoryQueries store, LiveModel model, InteractiveExplainer interactive, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(interactive);
        id = ApiParameters.RouteId(id);
        var p = new ApiParameters();
        double epsilon = p.Number("eps", request.Eps, 1e-4, 5) ?? 0.1;
        if (p.Failed is { } failed)
        {
            return failed;
        }

        using var turn = await interactive.TryTakeAsync(ct).ConfigureAwait(false);
        if (turn is null)
        {
            return interactive.Refused();
        }

        var alert = await store.GetAlertAsync(id, ct).ConfigureAwait(false);
        if (alert is null)
        {
            return ApiParameters.NotFound("alert", id);
        }

        var (detail, problem) = await StoredInputAsync(store, model, alert.PeakWindowId, ct).ConfigureAwait(false);
        if (detail is null)
        {
            return problem!;
        }

        var result = await turn.RunAsync(x => new Fgsm(x).Explain(WindowBatch.One(detail.Input), new FgsmOptions { Epsilon = epsilon }, ct)[0]).ConfigureAwait(false);
        return TypedResults.Ok(new AdversarialPeakResponse(
            alert.PeakWindowId, // the peak at the time of asking: a later window may have become the peak since
            result.Method,
            result.Epsilon,
            result.ScoreBefore,
            result.ScoreAfter,
            result.Flipped,
            ChannelRows.Of(result.Window, detail.Channels, detail.Length),
            ChannelRows.Of(result.AdversarialWindow, detail.Channels, detail.Length)));
    }

    /// <summary>
    /// A stored window's input, when the history kept it and the deployed model scored it; otherwise the problem
    /// to answer with (404: not stored, 409: scored by another model version).
    /// </summary>
    internal static async Task<(WindowDetail? Detail, ProblemHttpResult? Problem)> StoredInputAsync(IHistoryQueries store, LiveModel model, string id, CancellationToken ct)
    {
        var window = await store.GetWindowAsync(id, ct).ConfigureAwait(false);
        if (window?.Detail is not { } detail)
        {
            return (null, TypedResults.Problem(statusCode: 404, title: "No stored input", detail: $"No window '{id}' with a stored input in the history (alert windows and a sample of the others keep theirs).",
                extensions: new Dictionary<string, object?> { ["parameter"] = "id" }));
        }

        if (detail.Channels != model.Metadata.Channels.Count || detail.Length != model.Metadata.WindowLength || window.ModelVersion != model.Version)
        {
            return (null, TypedResults.Problem(statusCode: 409, title: "Other model", detail: $"Window '{id}' was scored by {window.ModelVersion}; the deployed model is {model.Version}."));
        }

        return (detail, null);
    }

    private static IResult Resource(string? file)
    {
        if (file is null || !ContentTypes.TryGetValue(Path.GetExtension(file), out var type))
        {
            return Results.NotFound();
        }

        var stream = typeof(WebView).Assembly.GetManifestResourceStream("web/" + file);
        return stream is null ? Results.NotFound() : Results.Stream(stream, type);
    }
}
