using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace TSViz.Plugins.History;

/// <summary>
/// Where the next page of a keyset-paged query starts: the sort key (a time in Unix milliseconds, then the id) of the
/// last row of the page before. On the wire it is opaque to clients: base64 of "{time}|{id}". Pages are newest first,
/// so the next page holds the rows strictly before this key.
/// </summary>
/// <param name="Time">The last row's time, Unix milliseconds.</param>
/// <param name="Id">The last row's id.</param>
public sealed record PageCursor(long Time, string Id)
{
    /// <summary>The cursor of the row with this time and id.</summary>
    public static PageCursor After(DateTimeOffset time, string id) => new(time.ToUnixTimeMilliseconds(), id);

    /// <summary>The text a page carries as its next cursor.</summary>
    public string Encode()
        => Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Time}|{Id}")));

    /// <summary>Reads a cursor a page returned; anything else is an <see cref="ArgumentException"/> (the caller's bad input).</summary>
    public static PageCursor Decode(string cursor)
        => TryDecode(cursor, out var decoded) ? decoded : throw new ArgumentException("The cursor is not one this API returned.", nameof(cursor));

    /// <summary>Reads a cursor; false for text that is not base64 of "{time}|{id}".</summary>
    public static bool TryDecode(string? cursor, [NotNullWhen(true)] out PageCursor? decoded)
    {
        decoded = null;
        if (cursor is null)
        {
            return false;
        }

        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
        }
        catch (FormatException)
        {
            return false;
        }

        int bar = text.IndexOf('|', StringComparison.Ordinal);
        if (bar > 0 && long.TryParse(text.AsSpan(0, bar), NumberStyles.Integer, CultureInfo.InvariantCulture, out long time))
        {
            decoded = new PageCursor(time, text[(bar + 1)..]);
            return true;
        }

        return false;
    }
}
