using System.Runtime.InteropServices;
using Prometheus;
using TSViz.Monitor.Live;

namespace TSViz.Monitor.Tests.Live;

/// <summary>The allocator's figures and settings (glibc; the monitor runs on Linux only, as libtorch does here).</summary>
public sealed class NativeHeapTests
{
    private const double MiB = 1024 * 1024;

    [Fact]
    public void Read_NativeBlockHeldThenFreed_InUseFollowsIt()
    {
        var before = NativeHeap.Read()!.Value;
        const int size = 64 * 1024 * 1024; // above glibc's largest mmap threshold (32 MiB): always its own mapping
        IntPtr block = Marshal.AllocHGlobal(size); // malloc
        try
        {
            var held = NativeHeap.Read()!.Value;
            // A wrong struct layout would not see the block where it belongs.
            Assert.InRange(held.InUse - before.InUse, size * 0.99, size * 1.5);
            Assert.InRange(held.Mapped - before.Mapped, size * 0.99, size * 1.5);
        }
        finally
        {
            Marshal.FreeHGlobal(block);
        }

        var after = NativeHeap.Read()!.Value;
        Assert.True(after.InUse < before.InUse + (size / 2), $"in use {after.InUse / MiB:F1} MiB after the free, {before.InUse / MiB:F1} MiB before");
    }

    [Fact]
    public async Task Register_Scrape_ExportsTheAllocatorsFigures()
    {
        var registry = Metrics.NewCustomRegistry();
        NativeHeap.Register(registry);
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        string text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        var inUse = text.Split('\n').Single(l => l.StartsWith("tsviz_native_heap_bytes{state=\"in_use\"}", StringComparison.Ordinal));
        Assert.True(double.Parse(inUse[(inUse.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 1 * MiB, inUse);
        Assert.Contains("tsviz_native_heap_bytes{state=\"free\"}", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_OperatorsThresholdInTunables_LeftAlone()
    {
        string? old = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        try
        {
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536");
            Assert.Equal("glibc, GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536", NativeHeap.Configure(1024));
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", null);
            Assert.Equal("glibc, GLIBC_TUNABLES unset (glibc's default arenas)", NativeHeap.Configure(0));
        }
        finally
        {
            Environment.SetEnvironmentVariable("GLIBC_TUNABLES", old);
        }
    }
}
