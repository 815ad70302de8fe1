using System.Collections.Concurrent;
using System.Diagnostics;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// One command line run by /bin/sh -c exactly as written (quotes and all), with its output lines collected as they come;
/// disposing kills it and whatever it started.
/// </summary>
internal sealed class ShellCommand : IDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();
    private readonly ConcurrentQueue<string> errors = new();

    private ShellCommand(string command)
    {
        Command = command;
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                errors.Enqueue(line);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Command { get; }

    /// <summary>Standard output so far, line by line.</summary>
    public IReadOnlyCollection<string> Output => output;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>What the command printed, for a failing test's message: its error output and the end of its output.</summary>
    public string Transcript
    {
        get
        {
            string Shorten(string line) => line.Length > 200 ? line[..200] + "..." : line;
            return $"command: {Command}\nexit: {(process.HasExited ? process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "still running")}\n" +
                $"stderr:\n{string.Join('\n', errors)}\nstdout ({output.Count} lines, last 5):\n{string.Join('\n', output.TakeLast(5).Select(Shorten))}";
        }
    }

    public static ShellCommand Start(string command) => new(command);

    /// <summary>Waits until it exits; false when <paramref name="timeout"/> passed first (it is still running).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The words the shell makes of <paramref name="command"/> (quotes and escapes resolved), without running it.</summary>
    public static async Task<string[]> WordsAsync(string command, CancellationToken cancellationToken)
    {
        // A new line before printf: a trailing "# comment" in the command ends with its line.
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"set -- {command}\nprintf '%s\\0' \"$@\"");
        using var shell = Process.Start(start)!;
        string words = await shell.StandardOutput.ReadToEndAsync(cancellationToken);
        await shell.WaitForExitAsync(cancellationToken);
        return words.Split('\0', StringSplitOptions.None)[..^1];
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
    }
}
