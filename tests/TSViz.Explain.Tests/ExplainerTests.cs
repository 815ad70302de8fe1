using System.Collections.Concurrent;
using System.Diagnostics;
using TSViz.Explain.Attribution;
using TSViz.Explain.Data;
using TSViz.Explain.Graph;
using TSViz.Explain.Inversion;
using TSViz.Explain.Robustness;
using TSViz.Tests.Shared;
using TorchSharp;

namespace TSViz.Explain.Tests;

/// <summary>Runs alone: it loads every core on purpose, and its exact comparison needs nobody changing libtorch's thread count meanwhile.</summary>
[CollectionDefinition(nameof(ExplainerTests), DisableParallelization = true)]
public sealed class ExplainerStressRunsAlone;

[Collection(nameof(ExplainerTests))]
public sealed class ExplainerTests
{
    /// <summary>Two parts of 16 on a 2-core machine: every Explain and Fgsm call is itself split over threads.</summary>
    private const int Windows = 32;

    /// <summary>Alerting windows the flip search and filter saliency get, as the monitor's live path gives them.</summary>
    private const int Alerting = 4;

    /// <summary>Quiet runs before the stress.</summary>
    private const int WarmUpRuns = 3;

    /// <summary>
    /// Bounds the run, not a clock: 120 live-path runs on 2 cores, 15-40 s depending on the machine's other load. The
    /// code before the fix failed within 13-97 of them in 10 runs of 10.
    /// </summary>
    private const int IterationsPerCaller = 30;

    /// <summary>
    /// Issue 13: the monitor died with "Node 'conv3_act' (LeakyRelu) failed ...: Expected false to be true" from
    /// c10::Scalar::toFloat. A native Scalar made by an implicit conversion from a C# number is referenced by no
    /// one once its handle is passed to libtorch, so a collection during the call lets its finalizer free it while
    /// libtorch still reads it. Here the monitor's live path (explanation, FGSM, flip search, filter saliency) runs
    /// on twice as many callers as cores (oversubscribed, so that a caller is often descheduled inside libtorch, as in
    /// the busy monitor) while another thread allocates, collects and finalizes without pause; every result must
    /// equal a quiet run's, bit for bit (a freed Scalar whose memory is reused silently gives another number). The
    /// interactive path (the temperature target, recursive highlighting, iterative FGSM, inversion) runs too. To make
    /// a freed Scalar read as another number rather than its stale bytes, the finalizer thread, which frees them,
    /// at once allocates <see cref="NativePoison"/> Scalars of 1e30 that take their memory.
    /// </summary>
    [Fact]
    public void LivePath_ConcurrentCallersUnderForcedCollections_NeverFailAndMatchAQuietRun()
    {
        // If libtorch aborts the process instead of throwing, the test host's crash report carries its stderr.
        int callers = 2 * Environment.ProcessorCount;
        Console.Error.WriteLine($"{nameof(ExplainerTests)}: live path on {callers} callers under forced collections; a crash from here on is this stress test.");
        var values = new AnomalyDatasetGenerator(13).Generate(Windows).Windows.Values;
        var explainers = Enumerable.Range(0, callers).Select(_ => Explainer.Load(RepositoryPaths.AnomalyModel)).ToArray();
        try
        {
            var expected = LivePath(explainers[0], values);

            // Quietly first, so that TorchSharp's wrappers are optimised (tier 1) before the collections start: in
            // unoptimised code the JIT keeps a converted Scalar alive to the end of the wrapper, hiding the race.
            for (int i = 0; i < WarmUpRuns; i++)
            {
                Assert.Null(Difference(expected, LivePath(explainers[i % callers], values)));
            }

            var failures = new ConcurrentQueue<string>();
            int collections = 0;
            bool stop = false;
            var collector = new Thread(() =>
            {
                var garbage = new object[256];
                while (!Volatile.Read(ref stop))
                {
                    for (int i = 0; i < garbage.Length; i++)
                    {
                        garbage[i] = i % 4 == 0 ? new NativePoison() : new byte[(i % 7 + 1) * 1024];
                    }

                    Array.Clear(garbage);
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    collections++;
                }
            });

            int completed = 0;
            var threads = explainers.Select((explainer, caller) => new Thread(() =>
            {
                for (int i = 0; i < IterationsPerCaller && failures.IsEmpty; i++)
                {
                    try
                    {
                        var actual = LivePath(explainer, values);
                        if (Difference(expected, actual) is string difference)
                        {
                            failures.Enqueue($"caller {caller}, iteration {i}: {difference}");
                        }
                    }
                    catch (Exception ex)
                    {
                        failures.Enqueue($"caller {caller}, iteration {i}: {Innermost(ex)}");
                    }

                    Interlocked.Increment(ref completed);
                }
            })).ToArray();

            collector.Start();
            foreach (var thread in threads)
            {
                thread.Start();
            }

            foreach (var thread in threads)
            {
                thread.Join();
            }

            Volatile.Write(ref stop, true);
            collector.Join();

            Assert.True(collections > 0, "The collector thread never ran.");
            if (!failures.IsEmpty)
            {
                Assert.Fail($"{failures.Count} failure(s) in {completed} live-path runs on {callers} callers with {collections} forced collections; first: {failures.First()}");
            }
        }
        finally
        {
            foreach (var explainer in explainers)
            {
                explainer.Dispose();
            }
        }
    }

    /// <summary>The live path of the monitor on one batch, every number it produces in one array.</summary>
    private static (string Part, float[] Values)[] LivePath(Explainer explainer, float[] values)
    {
        int size = explainer.Metadata.Channels.Count * explainer.Metadata.WindowLength;
        var explanations = explainer.Explain(values, Windows, new ExplainOptions { IncludeReceivedSaliency = false });
        var tempered = explainer.Explain(values.AsSpan(0, Alerting * size), Alerting, new ExplainOptions { Target = GradientTarget.Temperature, Temperature = 1.5 });
        var fgsm = explainer.Fgsm(values, Windows, 0.1);
        var iterative = explainer.IterativeFgsm(values.AsSpan(0, Alerting * size), Alerting, new IterativeFgsmOptions { Epsilon = 0.1, Alpha = 0.02, Steps = 5 });
        var last = explainer.Layers[^1];
        var trace = explainer.Trace(values.AsSpan(0, size), last.Name, 0, last.OutputLength / 2);
        var inverted = explainer.Invert(new InverseOptions { Steps = 5, Starts = 2 });
        var flips = explainer.SmallestFlippingEpsilon(values.AsSpan(0, Alerting * size), Alerting);
        var maps = new List<FilterSaliencyMap>();
        for (int w = 0; w < Alerting; w++)
        {
            var chosen = explanations[w].Layers.ToDictionary(l => l.Name, l => l.Ranking.Take(3).ToArray());
            maps.AddRange(explainer.FilterSaliency(values.AsSpan(w * size, size), 1, chosen)[0]);
        }

        return
        [
            ("explanations", [.. explanations.SelectMany(e => e.SaliencyRaw.Prepend(e.ExplainedValue).Prepend(e.Score).Concat(e.Layers.SelectMany(l => l.Influence)))]),
            ("temperature explanations", [.. tempered.SelectMany(e => e.SaliencyRaw.Prepend(e.ExplainedValue).Concat(e.Layers.SelectMany(l => l.Influence)))]),
            ("fgsm", [.. fgsm.SelectMany(r => r.AdversarialWindow.Prepend(r.ScoreAfter).Prepend(r.ScoreBefore))]),
            ("iterative fgsm", [.. iterative.SelectMany(r => r.AdversarialWindow.Prepend(r.ScoreAfter).Prepend(r.ScoreBefore))]),
            ("trace", [.. trace.Levels.SelectMany(l => l.Points.SelectMany(p => new[] { p.Row, p.Step, p.Weight })).Prepend(trace.Activation)]),
            ("inversion", [.. inverted.SelectMany(r => r.Optimised.Concat(r.ScoreTrajectory))]),
            ("flip search", [.. flips.SelectMany(f => new[] { f.ScoreBefore, f.ScoreAtEpsilon, (float)(f.SmallestFlippingEpsilon ?? -f.NotFlippedUpTo ?? 0) })]),
            ("filter saliency", [.. maps.SelectMany(m => m.Saliency)]),
        ];
    }

    /// <summary>
    /// Garbage whose finalizer, on the finalizer thread that also frees forgotten Scalars, allocates Scalars of 1e30:
    /// the allocator hands them the memory just freed, so a Scalar freed while libtorch reads it reads as 1e30.
    /// </summary>
    private sealed class NativePoison
    {
        private static readonly ConcurrentQueue<Scalar> Recent = new();

        ~NativePoison()
        {
            for (int i = 0; i < 4; i++)
            {
                Recent.Enqueue(1e30.ToScalar());
            }

            while (Recent.Count > 256 && Recent.TryDequeue(out var old))
            {
                old.Dispose();
            }
        }
    }

    private static string? Difference((string Part, float[] Values)[] expected, (string Part, float[] Values)[] actual)
    {
        for (int p = 0; p < expected.Length; p++)
        {
            var (part, want) = expected[p];
            var got = actual[p].Values;
            if (want.Length != got.Length)
            {
                return $"{part}: {got.Length} numbers instead of {want.Length}";
            }

            // Inversion is not bit-reproducible even on a quiet machine (1 ulp after a few steps, a libtorch reduction);
            // a Scalar read after it was freed (1e30 here, or the stale bytes) differs far more than 1e-6.
            float tolerance = part == "inversion" ? 1e-6f : 0f;
            for (int i = 0; i < want.Length; i++)
            {
                if (!(Math.Abs(got[i] - want[i]) <= tolerance) && !(float.IsNaN(got[i]) && float.IsNaN(want[i])))
                {
                    return $"{part}: result {i} is {got[i]:R} instead of {want[i]:R} (silently wrong)";
                }
            }
        }

        return null;
    }

    private static string Innermost(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: > 0 } aggregate)
        {
            ex = aggregate.InnerExceptions[0];
        }

        // Where in the explainer it happened (the kernel is named in the message when it is a graph node).
        var frame = new StackTrace(ex).GetFrames().Select(f => f.GetMethod()).FirstOrDefault(m => m?.DeclaringType?.Namespace?.StartsWith("TSViz.Explain", StringComparison.Ordinal) == true);
        string where = frame is null ? "" : $" (in {frame.DeclaringType!.Name}.{frame.Name})";
        return $"{ex.GetType().Name}{where}: {ex.Message.Split('\n')[0]}";
    }
}
