using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace TSViz.Monitor.Live;

/// <summary>
/// One dedicated thread at a lowered CPU priority (a nice value on Linux, the lowest thread priority elsewhere) that
/// runs the work handed to it, one item at a time, in order: work off the live path that must only use the processor
/// the live path leaves. Disposing lets the queued work finish, then ends the thread.
/// </summary>
internal sealed partial class NiceThread : IDisposable
{
    private readonly BlockingCollection<Action> queue = [];
    private readonly int nice;
    private readonly ILogger logger;
    private readonly Thread thread;

    public NiceThread(string name, int nice, ILogger logger)
    {
        this.nice = nice;
        this.logger = logger;
        thread = new Thread(Loop) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the thread; its result or exception when done.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        queue.Add(() =>
        {
            try
            {
                done.SetResult(work());
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
        queue.CompleteAdding();
        if (thread.Join(TimeSpan.FromSeconds(10)))
        {
            queue.Dispose();
        }
    }

    private void Loop()
    {
        if (nice > 0 && OperatingSystem.IsLinux())
        {
            // PRIO_PROCESS with a thread id sets that one thread's nice value.
            if (setpriority(0, gettid(), nice) != 0)
            {
                LogNiceFailed(logger, Thread.CurrentThread.Name, nice, Marshal.GetLastPInvokeError());
            }
        }
        else if (nice > 0)
        {
            Thread.CurrentThread.Priority = ThreadPriority.Lowest;
        }

        foreach (var item in queue.GetConsumingEnumerable())
        {
            item();
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setpriority(int which, int who, int prio);

    [DllImport("libc")]
    private static extern int gettid();

    [LoggerMessage(EventId = 335, Level = LogLevel.Warning, Message = "Could not lower thread {Thread} to nice {Nice} (errno {Errno}); it runs at the live path's priority")]
    private static partial void LogNiceFailed(ILogger logger, string? thread, int nice, int errno);
}
