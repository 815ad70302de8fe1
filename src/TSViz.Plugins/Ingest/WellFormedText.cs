using System.Buffers;
using System.Text;

namespace TSViz.Plugins.Ingest;

/// <summary>
/// Whether a .NET string is well-formed UTF-16 (no lone surrogate). Machine ids and details end up in JSON and metric
/// labels, whose writers throw on a lone surrogate, so the decoders check before they pass text on.
/// </summary>
internal static class WellFormedText
{
    public static bool IsWellFormed(string text)
    {
        var rest = text.AsSpan();
        int surrogate = rest.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (surrogate >= 0)
        {
            rest = rest[surrogate..];
            if (Rune.DecodeFromUtf16(rest, out _, out int used) != OperationStatus.Done)
            {
                return false;
            }

            rest = rest[used..];
            surrogate = rest.IndexOfAnyInRange('\uD800', '\uDFFF');
        }

        return true;
    }
}
