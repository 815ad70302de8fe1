using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;

namespace TSViz.Monitor.Live;

/// <summary>
/// The C allocator's own account of the process's native heap (glibc <c>mallinfo2</c>, summed over all arenas), as
/// Prometheus gauges read at each scrape: what libtorch, ONNX Runtime and SQLite hold (<c>in_use</c>) against what
/// the allocator keeps freed but not returned to the system (<c>free</c>). Resident memory that grows while
/// <c>in_use</c> stays flat is allocator retention, not a leak. Absent where glibc is not (the gauges stay 0).
/// </summary>
internal static class NativeHeap
{
    /// <summary>glibc's <c>struct mallinfo2</c> (2.33 and later): ten <c>size_t</c> fields.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena;     // non-mmapped space allocated from the system
        public nuint OrdBlks;   // free chunks
        public nuint SmBlks;    // free fastbin blocks
        public nuint HBlks;     // mmapped regions
        public nuint HBlkHd;    // space in mmapped regions
        public nuint UsmBlks;   // unused
        public nuint FsmBlks;   // space in freed fastbin blocks
        public nuint UordBlks;  // total allocated space
        public nuint FordBlks;  // total free space
        public nuint KeepCost;  // top-most, releasable space
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallInfo2Native();

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOptNative(int parameter, int value);

    [DllImport("libc", EntryPoint = "execve", SetLastError = true)]
    private static extern int ExecveNative(string path, string?[] argv, string?[] envp);

    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD
    private const string Tunables = "GLIBC_TUNABLES";
    private const string ArenaMaxTunable = "glibc.malloc.arena_max";

    /// <summary>
    /// Limits the C allocator to <paramref name="arenas"/> arenas (glibc's default: 8 per core, each keeping its own
    /// high-water mark of freed, fragmented tensor buffers). glibc fixes the limit when the process's second thread
    /// first allocates, long before any managed code runs, so it can only come from the environment: when
    /// GLIBC_TUNABLES does not already set it, the process replaces itself (execve, same PID, same arguments) with
    /// <c>glibc.malloc.arena_max</c> added. Returns only when nothing is to be done, or when execve failed.
    /// </summary>
    public static void EnsureArenaLimit(int arenas)
    {
        string? tunables = Environment.GetEnvironmentVariable(Tunables);
        if (arenas <= 0 || !OperatingSystem.IsLinux() || (tunables?.Contains(ArenaMaxTunable, StringComparison.Ordinal) ?? false))
        {
            return;
        }

        string[] argv;
        try
        {
            argv = File.ReadAllText("/proc/self/cmdline").Split('\0', StringSplitOptions.None)[..^1];
        }
        catch (IOException)
        {
            return;
        }

        string setting = FormattableString.Invariant($"{ArenaMaxTunable}={arenas}");
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => (string)e.Key != Tunables)
            .Select(e => $"{e.Key}={e.Value}")
            .Append($"{Tunables}={(string.IsNullOrEmpty(tunables) ? setting : $"{tunables}:{setting}")}");
        Console.Out.Flush();
        Console.Error.Flush();
        // The executable by its own path, not /proc/self/exe, so the process keeps its name (ps, top, systemd).
        string executable = Environment.ProcessPath ?? "/proc/self/exe";
        if (ExecveNative(executable, [.. argv, null], [.. environment, null]) != 0) // returns only on failure
        {
            Console.Error.WriteLine($"warning: could not restart with {Tunables}={setting} (errno {Marshal.GetLastPInvokeError()}); running with glibc's default arenas, resident memory may creep up (README, \"Memory\")");
        }
    }

    /// <summary>
    /// Blocks of <paramref name="mmapThresholdKiB"/> KiB and more are served by mmap, so a batch's large tensors go
    /// back to the system when freed (glibc otherwise raises that threshold after the first large free and keeps
    /// them in its arenas). 0, or a GLIBC_TUNABLES that sets the threshold, leaves glibc's default.
    /// </summary>
    /// <returns>The allocator's settings, for the start-up log; null where there is no glibc.</returns>
    public static string? Configure(int mmapThresholdKiB)
    {
        if (!OperatingSystem.IsLinux() || Read() is null)
        {
            return null;
        }

        string? tunables = Environment.GetEnvironmentVariable(Tunables);
        var applied = new List<string>();
        if (tunables?.Contains("glibc.malloc.mmap_threshold", StringComparison.Ordinal) != true
            && mmapThresholdKiB > 0 && MallOptNative(MmapThresholdParameter, mmapThresholdKiB * 1024) == 1)
        {
            applied.Add(FormattableString.Invariant($"blocks of {mmapThresholdKiB} KiB and more mmapped"));
        }

        applied.Add(string.IsNullOrEmpty(tunables) ? "GLIBC_TUNABLES unset (glibc's default arenas)" : $"GLIBC_TUNABLES={tunables}");
        return string.Join(", ", applied);
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrimNative(nuint pad);

    /// <summary>
    /// Returns the free pages of every arena to the system (glibc <c>malloc_trim(0)</c>, which also releases whole
    /// free pages inside an arena, not only its top). True when memory was returned; false when none was, or where
    /// there is no glibc.
    /// </summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return MallocTrimNative(0) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The allocator's figures in bytes, or null where <c>mallinfo2</c> is not available.</summary>
    public static (double InUse, double Free, double Mapped)? Read()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var info = MallInfo2Native();
            return (info.UordBlks + (double)info.HBlkHd, info.FordBlks, info.HBlkHd);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // musl or an older glibc: the gauges stay absent rather than wrong
        }
    }

    /// <summary>Registers <c>tsviz_native_heap_bytes{state}</c>, refreshed before each collection.</summary>
    public static void Register(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (Read() is null)
        {
            return;
        }

        var gauge = Metrics.WithCustomRegistry(registry).CreateGauge(
            "tsviz_native_heap_bytes",
            "The C allocator's native heap (glibc mallinfo2 over all arenas): in_use (allocated, including mmapped blocks), free (freed but kept by the allocator), mapped (blocks served by mmap).",
            "state");
        registry.AddBeforeCollectCallback(() =>
        {
            if (Read() is { } heap)
            {
                gauge.WithLabels("in_use").Set(heap.InUse);
                gauge.WithLabels("free").Set(heap.Free);
                gauge.WithLabels("mapped").Set(heap.Mapped);
            }
        });
    }
}

/// <summary>
/// Trims the native heap every <see cref="HealthSettings.NativeHeapTrimSeconds"/>. The live path allocates and frees
/// tensor buffers of many sizes on several threads; glibc keeps what was freed in its arenas, fragmented, so the
/// process's resident memory grew by 1-2 MiB a minute with the memory in use flat (issue 13's soak). A trim takes
/// a few milliseconds and runs on its own timer, never on the live path's threads.
/// </summary>
internal sealed partial class NativeHeapTrimmer(IOptions<MonitorOptions> options, ILogger<NativeHeapTrimmer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        double seconds = options.Value.Health.NativeHeapTrimSeconds;
        if (seconds <= 0 || NativeHeap.Read() is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            long start = Stopwatch.GetTimestamp();
            bool released = NativeHeap.Trim();
            double milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            LogTrimmed(logger, released, milliseconds);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Native heap trimmed in {Milliseconds:0.0} ms (memory returned: {Released})")]
    private static partial void LogTrimmed(ILogger logger, bool released, double milliseconds);
}
