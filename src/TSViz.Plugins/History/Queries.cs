namespace TSViz.Plugins.History;

/// <summary>Filters of a window query; every one is optional and they combine with AND.</summary>
public sealed record WindowQuery
{
    public string? Machine { get; init; }

    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    public double? MinScore { get; init; }

    /// <summary>anomaly, normal or insufficient_data.</summary>
    public string? ReasonCode { get; init; }

    public string? DominantChannel { get; init; }

    /// <summary>Only windows with a full explanation stored.</summary>
    public bool? HasDetail { get; init; }

    public int Limit { get; init; } = 100;

    /// <summary>A <see cref="Page{T}.NextCursor"/> of the same query (<see cref="PageCursor"/>).</summary>
    public string? Cursor { get; init; }
}

/// <summary>Filters of an alert query; every one is optional and they combine with AND.</summary>
public sealed record AlertQuery
{
    public string? Machine { get; init; }

    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    public double? MinScore { get; init; }

    /// <summary>open or closed.</summary>
    public string? Status { get; init; }

    public string? DominantChannel { get; init; }

    public int Limit { get; init; } = 100;

    /// <summary>A <see cref="Page{T}.NextCursor"/> of the same query (<see cref="PageCursor"/>).</summary>
    public string? Cursor { get; init; }
}
