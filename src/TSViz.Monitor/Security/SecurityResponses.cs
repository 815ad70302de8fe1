namespace TSViz.Monitor.Security;

/// <summary>GET /api/whoami: the request's identity and whether authentication is on ("on", "off").</summary>
internal sealed record WhoAmIResponse(string? Name, string? Role, string Method, string Authentication);

/// <summary>GET /api/security/keys: the configured API keys, names and roles only.</summary>
internal sealed record ApiKeysResponse(IReadOnlyList<ApiKeyEntry> Keys);

/// <summary>One configured API key: its name and role (never its hash).</summary>
internal sealed record ApiKeyEntry(string Name, string Role);
