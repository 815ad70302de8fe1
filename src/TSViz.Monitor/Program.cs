using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;

// `run` (the default verb) first chooses the C allocator and its arenas, which only the environment can do (docs/live-monitor.md, "9. Memory").
if (args.Length == 0 || args[0] == "run")
{
    var (allocator, arenas) = MonitorHost.NativeAllocatorSettings();
    NativeAllocator.EnsureConfigured(allocator, arenas);
}

return await MonitorCommandLine.Build(Console.Out, Console.Error).Parse(args).InvokeAsync().ConfigureAwait(false);
