using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Prometheus;

/// <summary>
/// A real Prometheus (Debian package) on a loopback port with its own storage folder, started from a configuration
/// text; never a running service. Queries go through its HTTP API.
/// </summary>
internal sealed class PrometheusServer : IDisposable
{
    public const string Binary = "/usr/bin/prometheus";
    private readonly string directory;
    private readonly Process process;
    private readonly HttpClient http;

    private PrometheusServer(int port, Process process, string directory)
    {
        Port = port;
        this.process = process;
        this.directory = directory;
        http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }

    public static async Task<PrometheusServer> StartAsync(string configuration, CancellationToken cancellationToken)
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: install the Debian package prometheus (scripts/test.sh does).");
        }

        int port = Loopback.FreePort();
        string directory = RepositoryPaths.NewTempDirectory();
        string configPath = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, configuration, cancellationToken);
        var start = new ProcessStartInfo(Binary)
        {
            ArgumentList =
            {
                $"--config.file={configPath}",
                $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                $"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new PrometheusServer(port, process, directory);
        try
        {
            await server.WaitUntilReadyAsync(cancellationToken);
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    /// <summary>Evaluates an instant query now; the API's error (bad expression, evaluation error) is returned, never thrown.</summary>
    public async Task<QueryResult> QueryAsync(string expression, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("query", expression)]);
        using var response = await http.PostAsync(new Uri("/api/v1/query", UriKind.Relative), form, cancellationToken);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var root = body.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            return new QueryResult(root.GetProperty("error").GetString() ?? "unknown error", []);
        }

        var data = root.GetProperty("data");
        var result = data.GetProperty("result");
        string[] values = data.GetProperty("resultType").GetString() switch
        {
            "vector" => result.EnumerateArray().Select(s => s.GetProperty("value")[1].GetString()!).ToArray(),
            "matrix" => result.EnumerateArray().SelectMany(s => s.GetProperty("values").EnumerateArray().Select(v => v[1].GetString()!)).ToArray(),
            "scalar" or "string" => [result[1].GetString()!],
            var type => throw new InvalidOperationException($"Unexpected result type {type}."),
        };
        return new QueryResult(null, values);
    }

    /// <summary>The values of a label on the series that match a selector (what Grafana's label_values(selector, label) lists).</summary>
    public async Task<IReadOnlyList<string>> LabelValuesAsync(string label, string selector, CancellationToken cancellationToken)
    {
        var uri = new Uri($"/api/v1/label/{Uri.EscapeDataString(label)}/values?match[]={Uri.EscapeDataString(selector)}", UriKind.Relative);
        using var body = JsonDocument.Parse(await http.GetStringAsync(uri, cancellationToken));
        return body.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetString()!).ToList();
    }

    /// <summary>Every rule Prometheus loaded: name, query, health and last error.</summary>
    public async Task<IReadOnlyList<LoadedRule>> RulesAsync(CancellationToken cancellationToken)
    {
        using var body = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/rules", UriKind.Relative), cancellationToken));
        return body.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => new LoadedRule(
                r.GetProperty("name").GetString()!,
                r.GetProperty("query").GetString()!,
                r.GetProperty("health").GetString()!,
                r.TryGetProperty("lastError", out var error) ? error.GetString() : null))
            .ToList();
    }

    public void Dispose()
    {
        http.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with code {process.ExitCode.ToString(CultureInfo.InvariantCulture)} at start.");
            }

            try
            {
                using var ready = await http.GetAsync(new Uri("/-/ready", UriKind.Relative), cancellationToken);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"prometheus on port {Port.ToString(CultureInfo.InvariantCulture)} was not ready within 30 s.");
            }

            await Task.Delay(200, cancellationToken);
        }
    }
}

/// <summary>An instant query's outcome: the API's error, or the sample values as Prometheus prints them ("0.5", "NaN", "+Inf").</summary>
internal sealed record QueryResult(string? Error, IReadOnlyList<string> Values)
{
    /// <summary>True when at least one value is a number (histogram_quantile over no observations gives NaN everywhere).</summary>
    public bool HasNumber => Values.Any(v => v != "NaN");
}

/// <summary>A rule as Prometheus loaded and evaluated it.</summary>
internal sealed record LoadedRule(string Name, string Query, string Health, string? LastError);
