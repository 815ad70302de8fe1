using TSViz.Monitor.Cli;
using TSViz.Monitor.Live;

// `run` (the default verb) first limits the C allocator's arenas, which only the environment can do (docs/live-monitor.md, "9. Memory").
if (args.Length == 0 || args[0] == "run")
{
    NativeHeap.EnsureArenaLimit(MonitorHost.NativeHeapArenas());
}

return await MonitorCommandLine.Build(Console.Out, Console.Error).Parse(args).InvokeAsync().ConfigureAwait(false);
