using TSViz.Monitor.Hosting;

namespace TSViz.Monitor.Tests.Cli;

/// <summary>Runs a verb in-process with captured output.</summary>
internal static class VerbRunner
{
    public static async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var parse = MonitorCommandLine.Build(output, error).Parse(args);
        int exit = await parse.InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
