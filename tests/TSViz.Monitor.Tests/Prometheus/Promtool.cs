using System.Diagnostics;

namespace TSViz.Monitor.Tests.Prometheus;

/// <summary>Runs Debian's promtool (package prometheus) and returns its exit code and everything it printed.</summary>
internal static class Promtool
{
    public const string Binary = "/usr/bin/promtool";

    public static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> arguments, string? standardInput, CancellationToken cancellationToken)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: install the Debian package prometheus (scripts/test.sh does).");
        }

        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await output + await error);
    }
}
