using System.Globalization;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// The C allocator `run` chooses (Monitor:Health:NativeAllocator): the environment it asks for, and the process as it
/// then runs (Debian's libjemalloc2, which scripts/test.sh installs, mapped into it; the gauges read from it).
/// </summary>
public sealed class NativeAllocatorTests
{
    private const string Jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";

    private static Func<string, string?> Environment(params (string Key, string Value)[] variables)
        => key => variables.Where(v => v.Key == key).Select(v => v.Value).FirstOrDefault();

    [Fact]
    public void Plan_AutoWithJemallocInstalled_PreloadsItWithDecayAndArenas()
    {
        var (add, warning) = NativeAllocator.Plan("auto", 2, Environment(), Jemalloc);
        Assert.Null(warning);
        Assert.Equal(Jemalloc, add["LD_PRELOAD"]);
        Assert.Equal("background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:2", add["MALLOC_CONF"]);
        Assert.False(add.ContainsKey("GLIBC_TUNABLES")); // glibc's malloc is not used at all then
    }

    [Fact]
    public void Plan_AfterTheReExecution_NothingMoreToDo()
    {
        var (add, _) = NativeAllocator.Plan("auto", 2, Environment(("LD_PRELOAD", Jemalloc), ("MALLOC_CONF", "narenas:2")), Jemalloc);
        Assert.Empty(add);
        (add, _) = NativeAllocator.Plan("glibc", 2, Environment(("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")), Jemalloc);
        Assert.Empty(add);
    }

    [Fact]
    public void Plan_AutoWithoutJemalloc_GlibcWithArenasAndAWarningNamingThePackage()
    {
        var (add, warning) = NativeAllocator.Plan("AUTO", 2, Environment(("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0")), jemallocPath: null);
        Assert.Equal("glibc.malloc.tcache_count=0:glibc.malloc.arena_max=2", add["GLIBC_TUNABLES"]);
        Assert.False(add.ContainsKey("LD_PRELOAD"));
        Assert.Contains("libjemalloc2", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_OperatorsOwnSettings_Win()
    {
        // Their own preload (another allocator, a profiler): left alone, and said so.
        var (add, warning) = NativeAllocator.Plan("jemalloc", 2, Environment(("LD_PRELOAD", "/usr/lib/libtcmalloc.so.4")), Jemalloc);
        Assert.Empty(add);
        Assert.Contains("LD_PRELOAD is set", warning, StringComparison.Ordinal);
        // Their own MALLOC_CONF: jemalloc preloaded, their configuration kept.
        (add, _) = NativeAllocator.Plan("jemalloc", 2, Environment(("MALLOC_CONF", "narenas:1")), Jemalloc);
        Assert.Equal(Jemalloc, add["LD_PRELOAD"]);
        Assert.False(add.ContainsKey("MALLOC_CONF"));
        // glibc asked for, arenas 0: glibc's defaults, nothing to add.
        Assert.Empty(NativeAllocator.Plan("glibc", 0, Environment(), Jemalloc).Add);
        // Not a choice: nothing here; the validator names the key.
        Assert.Empty(NativeAllocator.Plan("tcmalloc", 2, Environment(), Jemalloc).Add);
    }

    [Fact]
    public void Validator_UnknownAllocator_NamesTheKey()
    {
        var options = new MonitorOptions();
        options.Health.NativeAllocator = "tcmalloc";
        var result = MonitorHost.ValidateOptions(options);
        Assert.Contains(result.Failures!, f => f.StartsWith("Monitor:Health:NativeAllocator must be one of auto, jemalloc, glibc", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("jemalloc")]
    [InlineData("glibc")]
    public async Task Run_AllocatorChosen_ProcessRunsOnItAndTheGaugesReadIt(string allocator)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var monitor = MonitorProcess.Start(Settings(allocator), RepositoryPaths.Root);
        await monitor.WaitHealthyAsync(cancel.Token);

        string maps = await File.ReadAllTextAsync($"/proc/{monitor.Id}/maps", cancel.Token);
        string environ = await File.ReadAllTextAsync($"/proc/{monitor.Id}/environ", cancel.Token);
        Assert.Equal(allocator == "jemalloc", maps.Contains("libjemalloc.so.2", StringComparison.Ordinal));
        Assert.Equal(allocator == "glibc", environ.Contains("GLIBC_TUNABLES=glibc.malloc.arena_max=2", StringComparison.Ordinal));

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{monitor.HttpPort.ToString(CultureInfo.InvariantCulture)}") };
        string metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), cancel.Token);
        Assert.Contains($"tsviz_native_allocator_info{{allocator=\"{allocator}\"}} 1", metrics, StringComparison.Ordinal);
        // The model, libtorch and ONNX Runtime hold tens of MiB of native memory: the allocator's own account sees it.
        double inUse = Gauge(metrics, "tsviz_native_heap_bytes{state=\"in_use\"}");
        Assert.True(inUse > 20 * 1024 * 1024, $"in use {inUse} bytes");
        Assert.True(Gauge(metrics, "tsviz_native_heap_bytes{state=\"free\"}") >= 0);
    }

    [Fact]
    public async Task Run_JemallocRequiredButAnotherPreload_Exit2NamingTheKey()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var monitor = MonitorProcess.Start(Settings("jemalloc"), RepositoryPaths.Root,
            new Dictionary<string, string> { ["LD_PRELOAD"] = "/lib/x86_64-linux-gnu/libm.so.6" });
        Assert.Equal(2, await monitor.TerminateOnExitAsync(cancel.Token));
        Assert.Contains("LD_PRELOAD is set", monitor.Log, StringComparison.Ordinal);
        var error = monitor.Log.Split('\n').Single(l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("Monitor:Health:NativeAllocator is jemalloc, but the process does not run on it", error, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Settings(string allocator) => new()
    {
        ["Monitor:ModelPath"] = RepositoryPaths.AnomalyModel,
        ["Monitor:History:Path"] = Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"),
        ["Monitor:Mqtt:Port"] = Loopback.FreePort().ToString(CultureInfo.InvariantCulture),
        ["Monitor:Simulator:Enabled"] = "false",
        ["Monitor:Jobs:Enabled"] = "false",
        ["Monitor:WarmUp"] = "false",
        ["Monitor:Health:NativeAllocator"] = allocator,
        ["Monitor:Health:NativeHeapArenas"] = "2",
    };

    private static double Gauge(string metrics, string series)
    {
        var line = metrics.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
