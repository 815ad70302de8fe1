namespace TSViz.Plugins.History;

/// <summary>Counts and means over a time range, for the dashboards: alerts per hour, channel contributions over time, the filters most often on top.</summary>
public interface IHistoryAggregates
{
    /// <summary>Alerts opened per machine (or of one machine) per hour in [since, until).</summary>
    Task<IReadOnlyList<HourlyCount>> AlertsPerHourAsync(DateTimeOffset since, DateTimeOffset until, string? machine, CancellationToken cancellationToken);

    /// <summary>A machine's mean channel contributions per bucket (at least 1 s) in [since, until), scored windows only.</summary>
    Task<IReadOnlyList<ChannelContributionPoint>> ChannelContributionOverTimeAsync(string machine, DateTimeOffset since, DateTimeOffset until, TimeSpan bucket, CancellationToken cancellationToken);

    /// <summary>The filters most often among the windows' top filters in [since, until), at most <paramref name="limit"/> (1..1000).</summary>
    Task<IReadOnlyList<FilterFrequency>> TopFilterFrequencyAsync(DateTimeOffset since, DateTimeOffset until, string? machine, int limit, CancellationToken cancellationToken);
}
