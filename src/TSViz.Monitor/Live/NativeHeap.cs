using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>
/// The C allocator's own account of the process's native heap, as Prometheus gauges read at each scrape: what
/// libtorch, ONNX Runtime and SQLite hold (<c>in_use</c>) against what the allocator keeps freed but not returned to
/// the system (<c>free</c>). Resident memory that grows while <c>in_use</c> stays flat is allocator retention, not a
/// leak. Read from jemalloc (<c>mallctl</c> statistics) when the process runs on it (<see cref="NativeAllocator"/>),
/// else from glibc (<c>mallinfo2</c>, summed over all arenas); absent where neither is (the gauges stay 0).
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

    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD
    private const string Tunables = "GLIBC_TUNABLES";

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

        if (Jemalloc.Value is not null)
        {
            return $"jemalloc ({Environment.GetEnvironmentVariable("LD_PRELOAD")}, MALLOC_CONF={Environment.GetEnvironmentVariable("MALLOC_CONF")})";
        }

        string? tunables = Environment.GetEnvironmentVariable(Tunables);
        var applied = new List<string>();
        if (tunables?.Contains("glibc.malloc.mmap_threshold", StringComparison.Ordinal) != true
            && mmapThresholdKiB > 0 && MallOptNative(MmapThresholdParameter, mmapThresholdKiB * 1024) == 1)
        {
            applied.Add(FormattableString.Invariant($"blocks of {mmapThresholdKiB} KiB and more mmapped"));
        }

        applied.Add(string.IsNullOrEmpty(tunables) ? "glibc, GLIBC_TUNABLES unset (glibc's default arenas)" : $"glibc, GLIBC_TUNABLES={tunables}");
        return string.Join(", ", applied);
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrimNative(nuint pad);

    /// <summary>
    /// Returns the free pages of every arena to the system: jemalloc purges every arena's unused pages; glibc's
    /// <c>malloc_trim(0)</c> also releases whole free pages inside an arena, not only its top. True when memory was
    /// returned (jemalloc: when the purge ran); false when none was, or where there is neither allocator.
    /// </summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        if (Jemalloc.Value is { } jemalloc)
        {
            return jemalloc.PurgeAll();
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

        if (Jemalloc.Value is { } jemalloc)
        {
            return jemalloc.Read();
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

    /// <summary>The allocator the process runs on: "jemalloc" or "glibc" (the gauges' label).</summary>
    public static string AllocatorName => Jemalloc.Value is null ? NativeAllocator.Glibc : NativeAllocator.Jemalloc;

    /// <summary>jemalloc's control interface when the process runs on jemalloc (LD_PRELOAD), else null.</summary>
    private static readonly Lazy<JemallocControl?> Jemalloc = new(JemallocControl.Find);

    /// <summary>Registers <c>tsviz_native_allocator_info</c> and <c>tsviz_native_heap_bytes{state}</c>, refreshed before each collection.</summary>
    public static void Register(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (Read() is null)
        {
            return;
        }

        var factory = Metrics.WithCustomRegistry(registry);
        factory.CreateGauge("tsviz_native_allocator_info", "The C allocator the process runs on (Monitor:Health:NativeAllocator): jemalloc or glibc; always 1.", "allocator")
            .WithLabels(AllocatorName).Set(1);
        var gauge = factory.CreateGauge(
            "tsviz_native_heap_bytes",
            "The C allocator's native heap, its own account (jemalloc stats.*, or glibc mallinfo2 over all arenas): in_use (allocated), free (freed but kept resident by the allocator), mapped (jemalloc: mapped in active extents; glibc: blocks served by mmap).",
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
/// jemalloc's <c>mallctl</c>, found in the process's global symbols (where LD_PRELOAD put it): its statistics,
/// refreshed by advancing <c>epoch</c>, and the purge of every arena.
/// </summary>
internal sealed class JemallocControl
{
    private const int AllArenas = 4096; // MALLCTL_ARENAS_ALL

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MallCtl([MarshalAs(UnmanagedType.LPUTF8Str)] string name, IntPtr oldValue, IntPtr oldLength, IntPtr newValue, nuint newLength);

    private readonly MallCtl mallctl;
    private readonly Lock gate = new();
    private readonly IntPtr buffer = Marshal.AllocHGlobal(3 * sizeof(ulong)); // value, length, epoch: lives as long as the process

    private JemallocControl(MallCtl mallctl) => this.mallctl = mallctl;

    public static JemallocControl? Find()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "mallctl", out IntPtr function))
        {
            return null;
        }

        var control = new JemallocControl(Marshal.GetDelegateForFunctionPointer<MallCtl>(function));
        return control.Read() is null ? null : control; // a build without statistics cannot feed the gauges
    }

    /// <summary>Allocated, resident minus allocated, and mapped bytes after refreshing the statistics; null when jemalloc refuses.</summary>
    public (double InUse, double Free, double Mapped)? Read()
    {
        lock (gate)
        {
            IntPtr value = buffer, length = buffer + sizeof(ulong), epoch = buffer + (2 * sizeof(ulong));
            Marshal.WriteInt64(epoch, 1);
            if (mallctl("epoch", IntPtr.Zero, IntPtr.Zero, epoch, sizeof(ulong)) != 0)
            {
                return null;
            }

            double? Size(string name)
            {
                Marshal.WriteInt64(length, sizeof(ulong)); // size_t on the 64-bit platforms libtorch runs on
                return mallctl(name, value, length, IntPtr.Zero, 0) == 0 ? (double)(ulong)Marshal.ReadInt64(value) : null;
            }

            return (Size("stats.allocated"), Size("stats.resident"), Size("stats.mapped")) is ({ } allocated, { } resident, { } mapped)
                ? (allocated, Math.Max(0, resident - allocated), mapped)
                : null;
        }
    }

    /// <summary>Returns every arena's unused dirty pages to the system now; true when jemalloc did it.</summary>
    public bool PurgeAll()
    {
        lock (gate)
        {
            return mallctl(FormattableString.Invariant($"arena.{AllArenas}.purge"), IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, 0) == 0;
        }
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
