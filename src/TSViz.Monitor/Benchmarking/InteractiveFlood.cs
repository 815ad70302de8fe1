using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace TSViz.Monitor.Benchmarking;

/// <summary>
/// `bench --live`'s flood of the explorer API: clients that each, in a loop, ask the monitor for a stored window's
/// filter influence or for the trace of one of its activations (alternately; random windows of the history, random
/// layer, filter and step), and read the whole answer. A refused request (429) waits as its Retry-After says, as the
/// web view does, then goes on.
/// </summary>
internal sealed class InteractiveFlood : IAsyncDisposable
{
    private readonly HttpClient http;
    private readonly IReadOnlyList<string> windows;
    private readonly IReadOnlyList<(string Name, int Filters, int Length)> layers;
    private readonly CancellationTokenSource stop = new();
    private readonly List<double> latencies = [];
    private readonly Task[] clients;
    private long answered;
    private long refused;
    private long failed;

    private InteractiveFlood(HttpClient http, IReadOnlyList<string> windows, IReadOnlyList<(string, int, int)> layers, int clientCount)
    {
        this.http = http;
        this.windows = windows;
        this.layers = layers;
        clients = [.. Enumerable.Range(0, clientCount).Select(c => Task.Run(() => ClientLoopAsync(c, stop.Token)))];
    }

    /// <summary>Stored windows the flood asks about.</summary>
    public int Windows => windows.Count;

    /// <summary>Finds windows with a stored input in the monitor's history and starts <paramref name="clientCount"/> clients on them.</summary>
    public static async Task<InteractiveFlood> StartAsync(Uri monitor, int clientCount, CancellationToken cancellationToken)
    {
        // Compressed like a browser's requests, so the monitor does all the work a web view costs it.
        var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All }) { BaseAddress = monitor };
        try
        {
            using var stored = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/windows?hasDetail=true&limit=50", UriKind.Relative), cancellationToken).ConfigureAwait(false));
            var ids = stored.RootElement.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("id").GetString()!).ToList();
            if (ids.Count == 0)
            {
                throw new InvalidOperationException("The monitor's history holds no window with its input yet: nothing to flood the explorer API with.");
            }

            using var model = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/model", UriKind.Relative), cancellationToken).ConfigureAwait(false));
            var layers = model.RootElement.GetProperty("layers").EnumerateArray()
                .Select(l => (l.GetProperty("name").GetString()!, l.GetProperty("filters").GetInt32(), l.GetProperty("outputLength").GetInt32())).ToList();
            return new InteractiveFlood(http, ids, layers, clientCount);
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>Counts from now on.</summary>
    public void Reset()
    {
        lock (latencies)
        {
            latencies.Clear();
            Interlocked.Exchange(ref answered, 0);
            Interlocked.Exchange(ref refused, 0);
            Interlocked.Exchange(ref failed, 0);
        }
    }

    /// <summary>Requests answered 200 (with their latencies in ms, sorted), refused 429 and failed otherwise since <see cref="Reset"/>.</summary>
    public (long Answered, long Refused, long Failed, double[] Latencies) Counts()
    {
        lock (latencies)
        {
            var sorted = latencies.ToArray();
            Array.Sort(sorted);
            return (Interlocked.Read(ref answered), Interlocked.Read(ref refused), Interlocked.Read(ref failed), sorted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(clients).ConfigureAwait(false);
        stop.Dispose();
        http.Dispose();
    }

    private async Task ClientLoopAsync(int client, CancellationToken cancellationToken)
    {
        var random = new Random(client);
        for (long n = 0; !cancellationToken.IsCancellationRequested; n++)
        {
            string window = Uri.EscapeDataString(windows[random.Next(windows.Count)]);
            var (name, filters, length) = layers[random.Next(layers.Count)];
            string path = n % 2 == 0
                ? $"/api/windows/{window}/influence"
                : string.Create(CultureInfo.InvariantCulture, $"/api/windows/{window}/trace?layer={name}&filter={random.Next(filters)}&step={random.Next(length)}");
            long started = Stopwatch.GetTimestamp();
            try
            {
                using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    lock (latencies)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        Interlocked.Increment(ref answered);
                    }
                }
                else if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Increment(ref refused);
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref failed);
            }
        }
    }
}
