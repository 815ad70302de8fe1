namespace TSViz.Plugins.History;

/// <summary>Filters of a window query; every one is optional and they combine with AND.</summary>
public sealed record WindowQuery
{
    /// <summary>Only this machine.</summary>
    public string? Machine { get; init; }

    /// <summary>Only from this time (inclusive).</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Only before this time (exclusive).</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Only scores (alert peaks) at or above this.</summary>
    public double? MinScore { get; init; }

    /// <summary>anomaly, normal or insufficient_data.</summary>
    public string? ReasonCode { get; init; }

    /// <summary>Only this dominant channel.</summary>
    public string? DominantChannel { get; init; }

    /// <summary>Only windows with a full explanation stored.</summary>
    public bool? HasDetail { get; init; }

    /// <summary>At most this many rows (clamped to 1..1000).</summary>
    public int Limit { get; init; } = 100;

    /// <summary>A <see cref="Page{T}.NextCursor"/> of the same query (<see cref="PageCursor"/>).</summary>
    public string? Cursor { get; init; }
}

/// <summary>Filters of an alert query; every one is optional and they combine with AND.</summary>
public sealed record AlertQuery
{
    /// <summary>Only this machine.</summary>
    public string? Machine { get; init; }

    /// <summary>Only from this time (inclusive).</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Only before this time (exclusive).</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Only scores (alert peaks) at or above this.</summary>
    public double? MinScore { get; init; }

    /// <summary>open or closed.</summary>
    public string? Status { get; init; }

    /// <summary>Only this dominant channel.</summary>
    public string? DominantChannel { get; init; }

    /// <summary>At most this many rows (clamped to 1..1000).</summary>
    public int Limit { get; init; } = 100;

    /// <summary>A <see cref="Page{T}.NextCursor"/> of the same query (<see cref="PageCursor"/>).</summary>
    public string? Cursor { get; init; }
}
