using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using TSViz.Monitor.Cluster;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Cluster;

/// <summary>
/// A silo of the test cluster: a generic host with UseOrleans on 127.0.0.1 (free silo and gateway ports), the cluster's
/// membership in PostgreSQL through <see cref="PostgresClustering.UsePostgresClustering"/>, and the membership settings
/// the failover spike used (a dead silo is found within seconds, not a minute).
/// </summary>
internal static class TestSilo
{
    /// <summary>The service id every test silo shares.</summary>
    public const string ServiceId = "tsviz-monitor-tests";

    /// <summary>A silo host (not started) named <paramref name="name"/> in cluster <paramref name="clusterId"/>.</summary>
    public static IHost Build(string connectionString, string clusterId, string name, Action<ILoggingBuilder>? logging = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = name);
            silo.ConfigureEndpoints(IPAddress.Loopback, Loopback.FreePort(), Loopback.FreePort());
            silo.Configure<ClusterMembershipOptions>(ClusterRegistration.Tune); // the monitor's own settings
            silo.UsePostgresClustering(_ => connectionString);
        });
        return builder.Build();
    }
}

/// <summary>
/// A test silo as its own process (this test assembly run with <c>cluster-silo</c>, see <see cref="ClusterSiloProgram"/>),
/// so a test can kill it with SIGKILL: no shutdown code runs, the silo never marks itself dead in the table.
/// </summary>
internal sealed class TestSiloProcess : IAsyncDisposable
{
    /// <summary>The environment variable that carries the connection string (not the command line, which ps shows).</summary>
    public const string ConnectionVariable = "TSVIZ_TEST_CLUSTER_CONNECTION";

    private readonly Process process;
    private readonly StringBuilder log = new();
    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestSiloProcess(Process process) => this.process = process;

    /// <summary>What the silo wrote so far (its warnings and errors).</summary>
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

    /// <summary>Starts a silo named <paramref name="name"/> in cluster <paramref name="clusterId"/>.</summary>
    public static TestSiloProcess Start(string connectionString, string clusterId, string name)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "exec", Path.Combine(AppContext.BaseDirectory, "TSViz.Monitor.Tests.dll"), ClusterSiloProgram.Verb, clusterId, name, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment[ConnectionVariable] = connectionString;
        var silo = new TestSiloProcess(Process.Start(start)!);
        silo.process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        silo.process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        silo.process.Exited += (_, _) => silo.started.TrySetException(new InvalidOperationException($"The silo process exited before it started:\n{silo.Log}"));
        silo.process.EnableRaisingEvents = true;
        silo.process.BeginOutputReadLine();
        silo.process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Completes once the silo has started (it says so on stdout).</summary>
    public Task StartedAsync(CancellationToken cancellationToken) => started.Task.WaitAsync(cancellationToken);

    /// <summary>SIGKILL, then waits for the process to be gone.</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line == ClusterSiloProgram.StartedLine)
        {
            started.TrySetResult();
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }
}
