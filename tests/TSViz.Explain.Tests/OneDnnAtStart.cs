using System.Runtime.CompilerServices;
using TSViz.Explain.Tests.Attribution;

namespace TSViz.Explain.Tests;

/// <summary>
/// Loads the smooth test model before any test runs. Its batched gradients are wrong with libtorch's oneDNN, so the
/// load switches oneDNN off for the process (<see cref="Explainer.SwitchedOffOneDnn"/>). Doing it first keeps every
/// test on one set of kernels: switched mid-run, the last bits of a result would change between two computations a
/// test compares exactly.
/// </summary>
internal static class OneDnnAtStart
{
    /// <summary>Whether loading the smooth model switched oneDNN off (the load-time check found the disagreement).</summary>
    public static bool SmoothModelSwitchedItOff { get; private set; }

    [ModuleInitializer]
    internal static void SwitchOffBeforeAnyTest()
    {
        using var explainer = Explainer.Load(TinyModels.Smooth(5));
        SmoothModelSwitchedItOff = explainer.SwitchedOffOneDnn;
    }
}
