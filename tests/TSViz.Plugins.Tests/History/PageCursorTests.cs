using System.Text;
using TSViz.Plugins.History;

namespace TSViz.Plugins.Tests.History;

public sealed class PageCursorTests
{
    [Theory]
    [InlineData(0L, "m1:2026-11-20T08:00:00.0000000+00:00:anomaly-cnn/1.0.0")]
    [InlineData(1_795_000_000_123L, "id|with|bars and ünïcode")]
    [InlineData(-5L, "x")]
    public void Encode_ThenDecode_GivesTheSameKey(long time, string id)
    {
        var cursor = new PageCursor(time, id);

        var decoded = PageCursor.Decode(cursor.Encode());

        Assert.Equal(cursor, decoded);
    }

    [Fact]
    public void Encode_IsBase64OfTimeBarId_AsPagesAlwaysCarried()
    {
        var at = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);

        string text = PageCursor.After(at, "m1:w").Encode();

        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{at.ToUnixTimeMilliseconds()}|m1:w")), text);
    }

    [Theory]
    [InlineData("not a cursor")]                      // not base64
    [InlineData("bm8tYmFyLWhlcmU=")]                  // base64 of "no-bar-here"
    [InlineData("fGlk")]                              // base64 of "|id": no time
    [InlineData("bm90LWEtdGltZXxpZA==")]              // base64 of "not-a-time|id"
    [InlineData("")]
    public void Decode_ForgedOrDamagedCursor_IsRejected(string forged)
    {
        Assert.False(PageCursor.TryDecode(forged, out var decoded));
        Assert.Null(decoded);
        var error = Assert.Throws<ArgumentException>(() => PageCursor.Decode(forged));
        Assert.Equal("cursor", error.ParamName);
    }

    [Fact]
    public void TryDecode_Null_IsFalse() => Assert.False(PageCursor.TryDecode(null, out _));
}
