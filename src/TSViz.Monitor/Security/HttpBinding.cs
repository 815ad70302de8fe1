using System.Net;

namespace TSViz.Monitor.Security;

/// <summary>
/// Monitor:HttpUrl taken apart as Kestrel reads it (scheme://host:port, where host may be a wildcard that
/// <see cref="Uri"/> does not parse: *, +), and what it means for security: loopback only, or reachable from the network.
/// </summary>
internal sealed record HttpBinding(string Scheme, string Host, int Port)
{
    public bool IsHttps => Scheme == "https";

    /// <summary>Bound to every address: 0.0.0.0, [::], * or +.</summary>
    public bool IsWildcard => Host is "0.0.0.0" or "[::]" or "::" or "*" or "+";

    /// <summary>Reachable from this machine only: localhost, 127.0.0.0/8, ::1.</summary>
    public bool IsLoopback => string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    public static bool TryParse(string? url, out HttpBinding? binding)
    {
        binding = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            return false;
        }

        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0)
        {
            return false;
        }

        string name = url[..scheme].ToLowerInvariant();
        string rest = url[(scheme + 3)..].TrimEnd('/');
        if (name is not ("http" or "https") || rest.Length == 0 || rest.Contains('/', StringComparison.Ordinal))
        {
            return false;
        }

        // [v6]:port, host:port or host alone.
        int colon = rest.StartsWith('[') ? rest.IndexOf("]:", StringComparison.Ordinal) + 1 : rest.LastIndexOf(':');
        string host = colon > 0 ? rest[..colon] : rest;
        int port = name == "https" ? 443 : 80;
        if (colon > 0 && !int.TryParse(rest[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port))
        {
            return false;
        }

        if (host.Length == 0 || port is < 0 or > 65535 || (rest.StartsWith('[') && !host.EndsWith(']')))
        {
            return false;
        }

        binding = new HttpBinding(name, host, port);
        return true;
    }

    /// <summary>The Host header values answered: HttpUrl's host, loopback names on loopback, and the configured ones.</summary>
    public IReadOnlyList<string> AllowedHosts(IEnumerable<string> configured)
    {
        var hosts = new List<string>();
        if (!IsWildcard)
        {
            hosts.Add(Host);
        }

        if (IsLoopback)
        {
            hosts.AddRange(["localhost", "127.0.0.1", "[::1]"]);
        }

        hosts.AddRange(configured.Where(h => !string.IsNullOrWhiteSpace(h)).Select(h => h.Trim()));
        return [.. hosts.Distinct(StringComparer.OrdinalIgnoreCase)];
    }
}
