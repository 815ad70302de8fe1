using Microsoft.Extensions.Options;
using Prometheus;
using TSViz.Monitor.Live;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Security;

/// <summary>
/// The validated security settings as the request pipeline uses them: whether authentication is on, the keys'
/// digests, the allowed origins; and the refusal counter (tsviz_http_requests_refused_total{reason}).
/// </summary>
internal sealed class SecurityState
{
    /// <summary>Every reason a request is refused, exported at 0 from the start.</summary>
    public static readonly string[] RefusalReasons = ["unauthenticated", "forbidden", "csrf", "rate_limited", "host"];

    private readonly Counter refused;

    public SecurityState(IOptions<MonitorOptions> options, CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(options);
        var monitor = options.Value;
        Settings = monitor.Security;
        // HttpUrl is validated before this is built; an unparsable one leaves authentication on.
        Binding = HttpBinding.TryParse(monitor.HttpUrl, out var binding) ? binding! : new HttpBinding("http", "invalid", 0);
        Keys = [.. Settings.ApiKeys.Select(k => (k, ApiKeys.Digest(k.Hash)!))];
        AuthenticationOff = Binding.IsLoopback && Settings.ApiKeys.Length == 0 && !Settings.Jwt.Enabled;
        refused = Metrics.WithCustomRegistry(registry).CreateCounter("tsviz_http_requests_refused_total",
            "HTTP requests refused, by reason: unauthenticated (401), forbidden (403, role), csrf (403), rate_limited (429), host (400, Host header not allowed).", "reason");
        foreach (string reason in RefusalReasons)
        {
            refused.WithLabels(reason);
        }
    }

    public SecuritySettings Settings { get; }

    public HttpBinding Binding { get; }

    public IReadOnlyList<(ApiKeySettings Key, byte[] Digest)> Keys { get; }

    /// <summary>Loopback with no key and no JWT: every request is "anonymous" with every role (the demo set-up).</summary>
    public bool AuthenticationOff { get; }

    public void Refused(string reason) => refused.WithLabels(reason).Inc();
}
