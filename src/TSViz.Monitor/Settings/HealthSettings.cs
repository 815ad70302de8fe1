namespace TSViz.Monitor.Settings;

/// <summary>Liveness of the live path's stages and bounded shutdown.</summary>
public sealed class HealthSettings
{
    /// <summary>A stage with input waiting and no progress for this long is stalled: /health answers 503.</summary>
    public double StallSeconds { get; set; } = 30;

    /// <summary>A stage faulted, or stalled this long, stops the monitor with exit code 70 (its supervisor restarts it).</summary>
    public double ExitAfterStallSeconds { get; set; } = 120;

    /// <summary>Longest shutdown: draining stops after this, and a stage that still holds the process is abandoned.</summary>
    public double ShutdownGraceSeconds { get; set; } = 30;

    /// <summary>
    /// Every this many seconds the C allocator returns the native memory it holds freed to the system (glibc
    /// <c>malloc_trim</c>); without it resident memory creeps up under the live path's churn of tensor buffers. 0: never.
    /// </summary>
    public double NativeHeapTrimSeconds { get; set; } = 60;

    /// <summary>
    /// The C allocator `run` serves native memory from (see Live/NativeAllocator.cs): <c>auto</c> (jemalloc
    /// when installed, else glibc), <c>jemalloc</c> (start-up fails without it) or <c>glibc</c>.
    /// </summary>
    public string NativeAllocator { get; set; } = "auto";

    /// <summary>
    /// Most arenas of the C allocator (glibc's default: 8 per core, each holding its own freed memory; jemalloc's: 4
    /// per core), set by `run` through MALLOC_CONF or GLIBC_TUNABLES (see Live/NativeAllocator.cs). 0: the
    /// allocator's default.
    /// </summary>
    public int NativeHeapArenas { get; set; } = 2;

    /// <summary>Native blocks of this many KiB and more are mmapped, so freed tensor buffers return to the system. 0: glibc's default (dynamic).</summary>
    public int NativeHeapMmapThresholdKiB { get; set; } = 1024;

    /// <summary>Section Monitor:Health's rules.</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(StallSeconds > 0, "Health:StallSeconds", "must be positive", StallSeconds);
        failures.Check(ExitAfterStallSeconds >= StallSeconds, "Health:ExitAfterStallSeconds", $"must be at least Health:StallSeconds ({StallSeconds})", ExitAfterStallSeconds);
        failures.Check(ShutdownGraceSeconds is > 0 and <= 3600, "Health:ShutdownGraceSeconds", "must lie in (0, 3600]", ShutdownGraceSeconds);
        failures.Check(NativeHeapTrimSeconds is 0 or (>= 1 and <= 86_400), "Health:NativeHeapTrimSeconds", "must be 0 (never) or lie in 1..86400", NativeHeapTrimSeconds);
        failures.Check(NativeHeapArenas is >= 0 and <= 1024, "Health:NativeHeapArenas", "must lie in 0..1024 (0: the allocator's default)", NativeHeapArenas);
        failures.Check(NativeHeapMmapThresholdKiB is >= 0 and <= 32 * 1024, "Health:NativeHeapMmapThresholdKiB", "must lie in 0..32768 (0: glibc's default)", NativeHeapMmapThresholdKiB);
    }
}
