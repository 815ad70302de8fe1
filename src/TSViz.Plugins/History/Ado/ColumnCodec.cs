using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace TSViz.Plugins.History.Ado;

/// <summary>
/// How values are kept in the history's columns: times as Unix milliseconds, channel contributions and top filters as
/// JSON (so SQLite's json_each can query them), input windows and signatures as raw float32 bytes, full explanations
/// as gzip'd JSON.
/// </summary>
internal static class ColumnCodec
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static long Milliseconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static Dictionary<string, float> Contributions(string json) => JsonSerializer.Deserialize<Dictionary<string, float>>(json, Json) ?? [];

    public static List<InfluentialFilter> Filters(string json) => JsonSerializer.Deserialize<List<InfluentialFilter>>(json, Json) ?? [];

    public static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    public static float[] Floats(byte[] bytes) => MemoryMarshal.Cast<byte, float>(bytes).ToArray();

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest))
        {
            zip.Write(data);
        }

        return output.ToArray();
    }

    public static byte[] Gunzip(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
