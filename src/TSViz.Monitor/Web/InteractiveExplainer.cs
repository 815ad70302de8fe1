using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Explain;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Web;

/// <summary>
/// The explainers of the web view's and the API's on-demand requests (influence, trace, adversarial, inversion),
/// apart from the live path's. At most <c>Interactive:MaxConcurrent</c> requests compute at once, each on its own
/// single-threaded explainer loaded from the deployed model file (the same weights and code as the live explainer, so
/// the same results); up to <c>Interactive:MaxQueued</c> more wait for a turn, and the rest are refused with 429 and
/// Retry-After. The live explainer's lock is never taken here. Each explainer runs on a thread of its own at
/// <c>Interactive:Nice</c>, so when the live path needs the processor it gets it first: interactive work only
/// costs the live path what the HTTP answers themselves cost.
/// </summary>
internal sealed partial class InteractiveExplainer : IDisposable
{
    private readonly InteractiveSettings settings;
    private readonly ConcurrencyLimiter limiter;
    private readonly Worker[] workers;
    private readonly ConcurrentBag<Worker> idle;
    private readonly Counter.Child admitted;
    private readonly Counter.Child refused;

    public InteractiveExplainer(LiveModel model, IOptions<MonitorOptions> options, CollectorRegistry registry, ILogger<InteractiveExplainer> logger)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        settings = options.Value.Interactive;
        limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = settings.MaxConcurrent,
            QueueLimit = settings.MaxQueued,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        // Explainers are not thread-safe: one per turn, and never more turns than workers.
        workers = [.. Enumerable.Range(0, settings.MaxConcurrent).Select(i => new Worker(model.Path, settings.Nice, i, logger))];
        idle = [.. workers];
        var requests = Metrics.WithCustomRegistry(registry).CreateCounter(
            "tsviz_interactive_requests_total", "On-demand explanation requests of the web view and API, by outcome (admitted; refused: 429, the Interactive limit was full).", "outcome");
        admitted = requests.WithLabels("admitted");
        refused = requests.WithLabels("refused");
    }

    /// <summary>
    /// Waits for a turn (in the queue when the running ones fill the limit); null when the queue is full too.
    /// Disposing the turn gives its place back.
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

        if (!idle.TryTake(out var worker))
        {
            lease.Dispose();
            throw new InvalidOperationException("An interactive turn found no free explainer; the limit and the workers disagree.");
        }

        admitted.Inc();
        return new Turn(this, worker, lease);
    }

    /// <summary>The answer to a request refused by <see cref="TryTakeAsync"/>: 429, Retry-After, and why in problem details.</summary>
    public TooManyRequests Refused() => new(settings.RetryAfterSeconds, TypedResults.Problem(
        statusCode: StatusCodes.Status429TooManyRequests,
        title: "Too many interactive requests",
        detail: string.Create(CultureInfo.InvariantCulture,
            $"The on-demand explanations are at their limit ({settings.MaxConcurrent} running, {settings.MaxQueued} waiting: Monitor:Interactive:MaxConcurrent and MaxQueued), so the live path keeps its share of the processor. Retry after {settings.RetryAfterSeconds} s."),
        extensions: new Dictionary<string, object?> { ["reason"] = "interactive_limit", ["retryAfterSeconds"] = settings.RetryAfterSeconds }));

    public void Dispose()
    {
        limiter.Dispose();
        foreach (var worker in workers)
        {
            worker.Dispose();
        }
    }

    /// <summary>One request's use of an interactive explainer.</summary>
    internal sealed class Turn : IDisposable
    {
        private readonly InteractiveExplainer owner;
        private readonly Worker worker;
        private readonly RateLimitLease lease;
        private int released;

        public Turn(InteractiveExplainer owner, Worker worker, RateLimitLease lease)
        {
            this.owner = owner;
            this.worker = worker;
            this.lease = lease;
        }

        /// <summary>Runs <paramref name="work"/> on this turn's explainer, on its own low-priority thread.</summary>
        public Task<T> RunAsync<T>(Func<Explainer, T> work) => worker.RunAsync(work);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                owner.idle.Add(worker); // back before the place is given up, so the next turn finds it
                lease.Dispose();
            }
        }
    }

    /// <summary>
    /// A thread that owns one explainer (loaded on first use from the model file, single-threaded) and runs the work
    /// given to it in turn. Its nice value is raised once at its start (lowering a thread's own priority needs no
    /// privilege); libtorch runs these explainers' operators on the calling thread (one intra-op thread), so the
    /// computation inherits it.
    /// </summary>
    internal sealed class Worker : IDisposable
    {
        private readonly BlockingCollection<Action> work = [];
        private readonly string modelPath;
        private readonly int nice;
        private readonly ILogger logger;
        private readonly Thread thread;
        private Explainer? explainer; // only ever touched on the worker's thread

        public Worker(string modelPath, int nice, int index, ILogger logger)
        {
            this.modelPath = modelPath;
            this.nice = nice;
            this.logger = logger;
            thread = new Thread(Run) { IsBackground = true, Name = string.Create(CultureInfo.InvariantCulture, $"tsviz-interactive-{index}") };
            thread.Start();
        }

        public Task<T> RunAsync<T>(Func<Explainer, T> job)
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            work.Add(() =>
            {
                try
                {
                    done.SetResult(job(explainer ??= Explainer.Load(modelPath, parallelism: 1)));
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            });
            return done.Task;
        }

        public void Dispose()
        {
            work.CompleteAdding();
            if (thread.Join(TimeSpan.FromSeconds(10)))
            {
                work.Dispose();
            }
        }

        private void Run()
        {
            LowerPriority();
            try
            {
                foreach (var item in work.GetConsumingEnumerable())
                {
                    item();
                }
            }
            finally
            {
                explainer?.Dispose();
            }
        }

        private void LowerPriority()
        {
            if (nice == 0)
            {
                return;
            }

            if (OperatingSystem.IsLinux())
            {
                // PRIO_PROCESS with a thread id sets that one thread's nice value on Linux.
                if (setpriority(0, gettid(), nice) != 0)
                {
                    Log.NiceFailed(logger, nice, Marshal.GetLastPInvokeError());
                }
            }
            else
            {
                Thread.CurrentThread.Priority = ThreadPriority.Lowest;
            }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int setpriority(int which, int who, int prio);

        [DllImport("libc")]
        private static extern int gettid();
    }

    /// <summary>A 429 with Retry-After and problem details; a type of its own so handlers can name it among their results.</summary>
    internal sealed class TooManyRequests(int retryAfterSeconds, IResult problem) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            ArgumentNullException.ThrowIfNull(httpContext);
            httpContext.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return problem.ExecuteAsync(httpContext);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 700, Level = LogLevel.Warning, Message = "Could not lower the interactive explainer thread to nice {Nice} (errno {Errno}); it runs at the live path's priority")]
        public static partial void NiceFailed(ILogger logger, int nice, int errno);
    }
}
