using System.Text.Json;
using TSViz.Explain.Data;

namespace TSViz.Monitor.Explaining;

/// <summary>One line of a windows file: its id and its values (channel-major), or why it was rejected.</summary>
internal sealed record WindowLine(int LineNumber, string? Id, float[]? Values, string? Error, float? Target = null)
{
    /// <summary>
    /// The planted anomaly's cell when the line says (<c>"spike": {"channel": c, "step": t}</c>, c in the model's channel
    /// order; <c>"spike": null</c> for a window without one: <see cref="PlantedSpike.None"/>); null when it does not say.
    /// </summary>
    public PlantedSpike? Spike { get; init; }
}

/// <summary>
/// Reads JSON lines <c>{"id": "...", "values": [[channel 0 ...], [channel 1 ...], ...]}</c> as used by the
/// `explain`, `cluster`, `prune` and `evaluate` verbs (an optional numeric "target" carries the true output, an
/// optional "spike" the planted anomaly's channel and step, the ground truth of `evaluate`). A bad line is returned with the reason; it never stops the stream.
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

            PlantedSpike? spike = null;
            if (root.TryGetProperty("spike", out var spikeElement))
            {
                if (spikeElement.ValueKind == JsonValueKind.Null)
                {
                    spike = PlantedSpike.None;
                }
                else if (spikeElement.ValueKind == JsonValueKind.Object
                    && spikeElement.TryGetProperty("channel", out var spikeChannel) && spikeChannel.TryGetInt32(out int sc) && sc >= 0 && sc < channels
                    && spikeElement.TryGetProperty("step", out var spikeStep) && spikeStep.TryGetInt32(out int st) && st >= 0 && st < length)
                {
                    spike = new PlantedSpike(sc, st);
                }
                else
                {
                    return new WindowLine(number, id, null, $"\"spike\" must be null or {{\"channel\": 0..{channels - 1}, \"step\": 0..{length - 1}}}, got {spikeElement.GetRawText()}");
                }
            }

            return new WindowLine(number, id, result, null, target) { Spike = spike };
        }
    }
}
