using System.Diagnostics;
using System.Globalization;
using System.Text;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// The monitor as its own process (the built TSViz.Monitor next to the tests), configured through TSVIZ_ variables,
/// so a test can kill it with SIGKILL as a power cut or the OOM killer would.
/// </summary>
internal sealed class MonitorProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();
    private readonly StringBuilder timedLog = new();

    private MonitorProcess(Process process, int httpPort)
    {
        this.process = process;
        HttpPort = httpPort;
    }

    public int HttpPort { get; }

    /// <summary>The same output, each line prefixed with the UTC time it was read (for post-mortems).</summary>
    public string TimedLog
    {
        get
        {
            lock (log)
            {
                return timedLog.ToString();
            }
        }
    }

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    public bool HasExited => process.HasExited;

    /// <summary>The process id (/proc/{Id}/...).</summary>
    public int Id => process.Id;

    public int ExitCode => process.ExitCode;

    /// <param name="settings">Monitor settings by key ("Monitor:..."), passed as TSVIZ_ variables.</param>
    /// <param name="workingDirectory">The monitor's working directory.</param>
    /// <param name="environment">Other environment variables of the process, as they are (e.g. LD_PRELOAD).</param>
    public static MonitorProcess Start(IReadOnlyDictionary<string, string> settings, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        // TSVIZ_TEST_MONITOR_BINARY runs a fault test against another build (e.g. the code before a fix, to see it fail).
        string binary = Environment.GetEnvironmentVariable("TSVIZ_TEST_MONITOR_BINARY") is { Length: > 0 } other ? other : Path.Combine(AppContext.BaseDirectory, "TSViz.Monitor");
        int httpPort = Loopback.FreePort();
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add("run");
        start.Environment["TSVIZ_Monitor__HttpUrl"] = $"http://127.0.0.1:{httpPort}";
        start.Environment["TSVIZ_Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment["TSVIZ_" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var monitor = new MonitorProcess(Process.Start(start)!, httpPort);
        monitor.process.OutputDataReceived += (_, e) => monitor.Append(e.Data);
        monitor.process.ErrorDataReceived += (_, e) => monitor.Append(e.Data);
        monitor.process.BeginOutputReadLine();
        monitor.process.BeginErrorReadLine();
        return monitor;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.AppendLine(line);
                timedLog.Append(DateTime.UtcNow.ToString("HH:mm:ss.fff ", System.Globalization.CultureInfo.InvariantCulture)).AppendLine(line);
            }
        }
    }

    /// <summary>Waits until /health answers 200 (connected, every stage running).</summary>
    public async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"), Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The monitor exited with code {process.ExitCode}:\n{Log}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/health", UriKind.Relative), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Busy starting.
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed or acknowledged.</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM, then waits for the process to exit; returns its exit code.</summary>
    public async Task<int> TerminateAsync(CancellationToken cancellationToken)
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync(cancellationToken);
        }

        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode;
    }

    /// <summary>Waits for the process to exit by itself; returns its exit code.</summary>
    public async Task<int> TerminateOnExitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process.Dispose();
    }
}
