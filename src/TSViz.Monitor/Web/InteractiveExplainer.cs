using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Explain;
using TSViz.Monitor.Live;

namespace TSViz.Monitor.Web;

/// <summary>
/// The explainers of the web view's and the API's on-demand requests (influence, trace, adversarial, inversion),
/// apart from the live path's. At most <c>Interactive:MaxConcurrent</c> requests compute at once, each on its own
/// single-threaded explainer loaded from the deployed model file (the same weights and code as the live explainer, so
/// the same results); up to <c>Interactive:MaxQueued</c> more wait for a turn, and the rest are refused with 429 and
/// Retry-After. The live explainer's lock is never taken here: a burst of requests can cost the live path at most
/// MaxConcurrent cores, never a wait for its explainer.
/// </summary>
internal sealed class InteractiveExplainer : IDisposable
{
    private readonly string modelPath;
    private readonly InteractiveSettings settings;
    private readonly ConcurrencyLimiter limiter;
    private readonly ConcurrentBag<Explainer> idle = [];
    private readonly List<Explainer> loaded = [];
    private readonly Lock loading = new();
    private readonly Counter.Child admitted;
    private readonly Counter.Child refused;

    public InteractiveExplainer(LiveModel model, IOptions<MonitorOptions> options, CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        modelPath = model.Path;
        settings = options.Value.Interactive;
        limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = settings.MaxConcurrent,
            QueueLimit = settings.MaxQueued,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        var requests = Metrics.WithCustomRegistry(registry).CreateCounter(
            "tsviz_interactive_requests_total", "On-demand explanation requests of the web view and API, by outcome (admitted; refused: 429, the Interactive limit was full).", "outcome");
        admitted = requests.WithLabels("admitted");
        refused = requests.WithLabels("refused");
    }

    /// <summary>
    /// Waits for a turn (in the queue when the running ones fill the limit); null when the queue is full too.
    /// Disposing the turn gives its explainer and its place back.
    /// </summary>
    public async Task<Turn?> TryTakeAsync(CancellationToken cancellationToken)
    {
        var lease = await limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            refused.Inc();
            return null;
        }

        try
        {
            // Explainers are not thread-safe; with the limit there are never more turns than explainers loaded.
            var explainer = idle.TryTake(out var free) ? free : Load();
            admitted.Inc();
            return new Turn(this, explainer, lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>The answer to a request refused by <see cref="TryTakeAsync"/>: 429, Retry-After, and why in problem details.</summary>
    public IResult Refused() => new TooManyRequests(settings.RetryAfterSeconds, Results.Problem(
        statusCode: StatusCodes.Status429TooManyRequests,
        title: "Too many interactive requests",
        detail: string.Create(CultureInfo.InvariantCulture,
            $"The on-demand explanations are at their limit ({settings.MaxConcurrent} running, {settings.MaxQueued} waiting: Monitor:Interactive:MaxConcurrent and MaxQueued), so the live path keeps its share of the processor. Retry after {settings.RetryAfterSeconds} s."),
        extensions: new Dictionary<string, object?> { ["reason"] = "interactive_limit", ["retryAfterSeconds"] = settings.RetryAfterSeconds }));

    public void Dispose()
    {
        limiter.Dispose();
        lock (loading)
        {
            foreach (var explainer in loaded)
            {
                explainer.Dispose();
            }

            loaded.Clear();
        }
    }

    private Explainer Load()
    {
        // One thread per explainer: a turn uses one core at most, whatever the explainer is asked.
        var explainer = Explainer.Load(modelPath, parallelism: 1);
        lock (loading)
        {
            loaded.Add(explainer);
        }

        return explainer;
    }

    /// <summary>One request's use of an interactive explainer.</summary>
    internal sealed class Turn : IDisposable
    {
        private readonly InteractiveExplainer owner;
        private readonly RateLimitLease lease;
        private int released;

        public Turn(InteractiveExplainer owner, Explainer explainer, RateLimitLease lease)
        {
            this.owner = owner;
            this.lease = lease;
            Explainer = explainer;
        }

        public Explainer Explainer { get; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                owner.idle.Add(Explainer); // back before the place is given up, so the next turn finds it
                lease.Dispose();
            }
        }
    }

    private sealed class TooManyRequests(int retryAfterSeconds, IResult problem) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            httpContext.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return problem.ExecuteAsync(httpContext);
        }
    }
}
