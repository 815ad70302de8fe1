using System.Security.Cryptography;
using System.Text;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Security;

/// <summary>
/// API keys: "tsviz_" + 32 random bytes in base64url (256 bits, so a plain SHA-256 is enough to store them: no slow
/// key derivation is needed against guessing), stored as "sha256:" + base64 of the SHA-256 of the whole key.
/// </summary>
internal static class ApiKeys
{
    public const string Prefix = "tsviz_";
    public const string HashPrefix = "sha256:";

    /// <summary>A new key from the operating system's cryptographic random generator.</summary>
    public static string Create() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => HashPrefix + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The 32 digest bytes of a configured hash, or null when it is not "sha256:" + base64 of 32 bytes.</summary>
    public static byte[]? Digest(string? hash)
    {
        if (hash is null || !hash.StartsWith(HashPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var bytes = new byte[32];
        return Convert.TryFromBase64String(hash[HashPrefix.Length..], bytes, out int written) && written == 32 ? bytes : null;
    }

    /// <summary>The configured key the presented one hashes to, or null. Every entry is compared, each in fixed time.</summary>
    public static ApiKeySettings? Match(string presented, IReadOnlyList<(ApiKeySettings Key, byte[] Digest)> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        ApiKeySettings? found = null;
        foreach (var (key, stored) in keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, stored))
            {
                found = key;
            }
        }

        return found;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
