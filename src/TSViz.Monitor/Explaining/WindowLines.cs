using System.Text.Json;

namespace TSViz.Monitor.Explaining;

/// <summary>One line of a windows file: its id and its values (channel-major), or why it was rejected.</summary>
internal sealed record WindowLine(int LineNumber, string? Id, float[]? Values, string? Error, float? Target = null);

/// <summary>
/// Reads JSON lines <c>{"id": "...", "values": [[channel 0 ...], [channel 1 ...], ...]}</c> as used by the
/// `explain`, `cluster` and `prune` verbs (an optional numeric "target" carries the true output). A bad line is returned with the reason; it never stops the stream.
/// </summary>
internal static class WindowLines
{
    public static async IAsyncEnumerable<WindowLine> ReadAsync(
        TextReader reader, int channels, int length, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int number = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            yield return Parse(line, number, channels, length);
        }
    }

    public static WindowLine Parse(string line, int number, int channels, int length)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            return new WindowLine(number, null, null, $"not valid JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new WindowLine(number, null, null, "expected a JSON object with \"id\" and \"values\"");
            }

            string? id = root.TryGetProperty("id", out var idElement) ? idElement.ValueKind switch
            {
                JsonValueKind.String => idElement.GetString(),
                JsonValueKind.Number => idElement.GetRawText(),
                _ => null,
            } : null;
            if (id is null)
            {
                return new WindowLine(number, null, null, "\"id\" is missing or not a string or number");
            }

            if (!root.TryGetProperty("values", out var values) || values.ValueKind != JsonValueKind.Array)
            {
                return new WindowLine(number, id, null, "\"values\" is missing or not an array of channels");
            }

            if (values.GetArrayLength() != channels)
            {
                return new WindowLine(number, id, null, $"\"values\" has {values.GetArrayLength()} channels; the model takes {channels}");
            }

            var result = new float[channels * length];
            int c = 0;
            foreach (var channel in values.EnumerateArray())
            {
                if (channel.ValueKind != JsonValueKind.Array || channel.GetArrayLength() != length)
                {
                    return new WindowLine(number, id, null,
                        $"channel {c} has {(channel.ValueKind == JsonValueKind.Array ? channel.GetArrayLength() : 0)} values; the model's window is {length} steps");
                }

                int t = 0;
                foreach (var value in channel.EnumerateArray())
                {
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetSingle(out float v) || !float.IsFinite(v))
                    {
                        return new WindowLine(number, id, null, $"channel {c} step {t} is not a finite number: {value.GetRawText()}");
                    }

                    result[(c * length) + t] = v;
                    t++;
                }

                c++;
            }

            float? target = null;
            if (root.TryGetProperty("target", out var targetElement))
            {
                if (targetElement.ValueKind != JsonValueKind.Number || !targetElement.TryGetSingle(out float t) || !float.IsFinite(t))
                {
                    return new WindowLine(number, id, null, $"\"target\" is not a finite number: {targetElement.GetRawText()}");
                }

                target = t;
            }

            return new WindowLine(number, id, result, null, target);
        }
    }
}
