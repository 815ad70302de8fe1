using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TSViz.Monitor.Tests.Cluster;

/// <summary>
/// The test assembly's entry point (the test SDK's empty one is off, GenerateProgramFile false): the test host never
/// calls it; <c>dotnet exec TSViz.Monitor.Tests.dll cluster-silo &lt;cluster&gt; &lt;name&gt; &lt;parent pid&gt;</c> runs one
/// <see cref="TestSilo"/> until it is killed, or until the test process that started it is gone.
/// </summary>
internal static class ClusterSiloProgram
{
    /// <summary>The first argument that runs a silo.</summary>
    public const string Verb = "cluster-silo";

    /// <summary>What the silo prints once it has started.</summary>
    public const string StartedLine = "cluster-silo: started";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length != 4 || args[0] != Verb)
        {
            await Console.Error.WriteLineAsync($"usage: {Verb} <cluster id> <silo name> <parent pid>");
            return 2;
        }

        string connection = Environment.GetEnvironmentVariable(TestSiloProcess.ConnectionVariable)
            ?? throw new InvalidOperationException($"{TestSiloProcess.ConnectionVariable} is not set.");
        int parent = int.Parse(args[3], CultureInfo.InvariantCulture);
        using var host = TestSilo.Build(connection, args[1], args[2], logging => logging.AddSimpleConsole(o => o.SingleLine = true));
        await host.StartAsync();
        Console.WriteLine(StartedLine);
        while (ParentAlive(parent))
        {
            await Task.Delay(1000);
        }

        await host.StopAsync(TimeSpan.FromSeconds(5));
        return 0;
    }

    private static bool ParentAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
