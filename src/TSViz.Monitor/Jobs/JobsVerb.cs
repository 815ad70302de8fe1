using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using TSViz.Monitor.Cli;

namespace TSViz.Monitor.Jobs;

/// <summary>`jobs list` and `jobs trigger NAME [--wait]`: the running monitor's nightly jobs, through its HTTP API.</summary>
internal static class JobsVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var url = new Option<string>("--url") { Description = "The running monitor (Monitor:HttpUrl).", DefaultValueFactory = _ => "http://127.0.0.1:8080", Recursive = true };
        var name = new Argument<string>("name") { Description = "The job: analysis or retention." };
        var wait = new Option<bool>("--wait") { Description = "Wait for the run to finish and print its outcome (exit 1 if it failed)." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds --wait waits at most.", DefaultValueFactory = _ => 600 };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = "API key for a monitor with authentication on (listing needs viewer, triggering engineer); default: the TSVIZ_API_KEY environment variable.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TSVIZ_API_KEY"),
            Recursive = true,
        };

        var list = new Command("list", "Each job: cron, next fire time, last run (outcome, time, duration, error).");
        list.SetAction((parse, ct) => VerbErrors.RunAsync(error, async () =>
        {
            using var http = Client(parse.GetValue(url)!, parse.GetValue(apiKey));
            using var jobs = await GetJobsAsync(http, ct).ConfigureAwait(false);
            foreach (var job in jobs.RootElement.GetProperty("jobs").EnumerateArray())
            {
                await output.WriteLineAsync(Describe(job)).ConfigureAwait(false);
            }

            return 0;
        }));

        var trigger = new Command("trigger", "Run a job now.") { name, wait, timeout };
        trigger.SetAction((parse, ct) => VerbErrors.RunAsync(error, async () =>
        {
            using var http = Client(parse.GetValue(url)!, parse.GetValue(apiKey));
            string job = parse.GetValue(name)!;
            string? before = LastFinished(await FindJobAsync(http, job, ct).ConfigureAwait(false));
            using var empty = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(new Uri($"/api/jobs/{Uri.EscapeDataString(job)}/trigger", UriKind.Relative), empty, ct).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"the monitor refused: {(int)response.StatusCode} {body}");
            }

            using var accepted = JsonDocument.Parse(body);
            await output.WriteLineAsync($"{job}: triggered at {accepted.RootElement.GetProperty("fireTime").GetString()}").ConfigureAwait(false);
            if (!parse.GetValue(wait))
            {
                return 0;
            }

            var deadline = DateTimeOffset.UtcNow.AddSeconds(parse.GetValue(timeout));
            while (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);
                var state = await FindJobAsync(http, job, ct).ConfigureAwait(false);
                if (LastFinished(state) is { } finished && finished != before)
                {
                    await output.WriteLineAsync(Describe(state)).ConfigureAwait(false);
                    return state.GetProperty("lastRun").GetProperty("outcome").GetString() == JobOutcome.Failed ? 1 : 0;
                }
            }

            throw new InvalidOperationException($"{job} did not finish within {parse.GetValue(timeout).ToString(CultureInfo.InvariantCulture)} s");
        }));

        return new Command("jobs", "The running monitor's nightly jobs (analysis, retention): list them, or trigger one.") { url, apiKey, list, trigger };
    }

    private static HttpClient Client(string url, string? apiKey)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--url must be the monitor's http(s) URL such as http://127.0.0.1:8080, got '{url}'");
        }

        var http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
        if (!string.IsNullOrWhiteSpace(apiKey))
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey.Trim());
        }

        return http;
    }

    private static async Task<JsonDocument> GetJobsAsync(HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri("/api/jobs", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new InvalidOperationException($"{http.BaseAddress} has no /api/jobs: the monitor runs with Monitor:Jobs:Enabled false");
            }

            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new InvalidOperationException($"the monitor refused: {(int)response.StatusCode} (pass an API key with --api-key or TSVIZ_API_KEY; see `keys create`)");
            }

            response.EnsureSuccessStatusCode();
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (HttpRequestException ex)
        {
            throw new InvalidOperationException($"cannot reach the monitor at {http.BaseAddress}: {ex.Message}", ex);
        }
    }

    private static async Task<JsonElement> FindJobAsync(HttpClient http, string name, CancellationToken cancellationToken)
    {
        using var jobs = await GetJobsAsync(http, cancellationToken).ConfigureAwait(false);
        foreach (var job in jobs.RootElement.GetProperty("jobs").EnumerateArray())
        {
            if (job.GetProperty("name").GetString() == name)
            {
                return job.Clone();
            }
        }

        throw new ArgumentException($"no job '{name}'; the jobs are {string.Join(", ", jobs.RootElement.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("name").GetString()))}");
    }

    private static string? LastFinished(JsonElement job)
        => job.TryGetProperty("lastRun", out var run) && run.ValueKind == JsonValueKind.Object ? run.GetProperty("finishedAt").GetString() : null;

    private static string Describe(JsonElement job)
    {
        string text = $"{job.GetProperty("name").GetString()}: cron {Text(job, "cron")}, next {Text(job, "nextFireTime")}";
        if (job.TryGetProperty("lastRun", out var run) && run.ValueKind == JsonValueKind.Object)
        {
            text += string.Create(CultureInfo.InvariantCulture,
                $"; last run {run.GetProperty("outcome").GetString()} at {run.GetProperty("finishedAt").GetString()} ({run.GetProperty("durationSeconds").GetDouble():F1} s)");
            if (run.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String)
            {
                text += $": {e.GetString()}";
            }
            else if (run.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
            {
                text += $": {d.GetString()}";
            }
        }
        else
        {
            text += "; never run";
        }

        return text;
    }

    private static string Text(JsonElement job, string property)
        => job.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "-";
}
