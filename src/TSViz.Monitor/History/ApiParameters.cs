using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using TSViz.Plugins.History;

namespace TSViz.Monitor.History;

/// <summary>
/// Validates an HTTP API's request parameters (they arrive as text), remembering the first one that is wrong as a
/// problem-details 400 naming it; and the API's shared answers (404 by id, ids escaped in the route).
/// </summary>
internal sealed class ApiParameters
{
    /// <summary>An id taken from the route: ids hold ':' and '/', so clients escape them (%2F).</summary>
    public static string RouteId(string id) => Uri.UnescapeDataString(id);

    public static ProblemHttpResult NotFound(string what, string id)
        => TypedResults.Problem(statusCode: 404, title: $"No such {what}", detail: $"There is no {what} with id '{id}' in the history.", extensions: new Dictionary<string, object?> { ["parameter"] = "id" });

    public static ProblemHttpResult Invalid(string parameter, string rule)
        => TypedResults.Problem(statusCode: 400, title: "Invalid request parameter", detail: $"'{parameter}' {rule}.", extensions: new Dictionary<string, object?> { ["parameter"] = parameter });

    public ProblemHttpResult? Failed { get; private set; }

    public void Fail(string name, string rule) => Failed ??= Invalid(name, rule);

    public string? Text(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length is 0 or > 200)
        {
            Fail(name, "must be 1 to 200 characters");
            return null;
        }

        return value;
    }

    public DateTimeOffset? Time(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }

        // Unix milliseconds, as Grafana's data links write a point's time.
        if (value.All(char.IsAsciiDigit) && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long ms) && ms <= 253_402_300_799_999)
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }

        Fail(name, "must be an ISO 8601 time such as 2026-11-26T02:00:00Z, or Unix milliseconds");
        return null;
    }

    public double? Number(string name, string? value, double min, double max)
    {
        if (value is null)
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) && number >= min && number <= max)
        {
            return number;
        }

        Fail(name, string.Create(CultureInfo.InvariantCulture, $"must be a number in [{min}, {max}]"));
        return null;
    }

    public int? Integer(string name, string? value, int min, int max)
    {
        if (value is null)
        {
            return null;
        }

        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number) && number >= min && number <= max)
        {
            return number;
        }

        Fail(name, string.Create(CultureInfo.InvariantCulture, $"must be a whole number in [{min}, {max}]"));
        return null;
    }

    public bool? Flag(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (bool.TryParse(value, out bool flag))
        {
            return flag;
        }

        Fail(name, "must be true or false");
        return null;
    }

    public string? OneOf(string name, string? value, IReadOnlyList<string> allowed)
    {
        if (value is null)
        {
            return null;
        }

        if (allowed.Contains(value, StringComparer.Ordinal))
        {
            return value;
        }

        Fail(name, $"must be one of {string.Join(", ", allowed)}");
        return null;
    }

    public string? Cursor(string name, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (PageCursor.TryDecode(value, out _))
        {
            return value;
        }

        Fail(name, "must be a nextCursor returned by this API");
        return null;
    }

    public void Range(string name, DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is not null && to is not null && from >= to)
        {
            Fail(name, "must be earlier than 'to'");
        }
    }

    public (DateTimeOffset From, DateTimeOffset To) Window(string? from, string? to, DateTimeOffset now, TimeSpan defaultSpan)
    {
        var until = Time("to", to) ?? now;
        var since = Time("from", from) ?? until - defaultSpan;
        Range("from", since, until);
        if (until - since > TimeSpan.FromDays(366))
        {
            Fail("from", "must be at most 366 days before 'to'");
        }

        return (since, until);
    }

    /// <summary>The value, or a failure when it is missing (then null, which the other checks pass over).</summary>
    public string? Required(string name, string? value)
    {
        if (value is null)
        {
            Fail(name, "is required");
        }

        return value;
    }
}
