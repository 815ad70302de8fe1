namespace TSViz.Plugins.History;

/// <summary>Alerts a machine opened in one hour.</summary>
public sealed record HourlyCount(string Machine, DateTimeOffset Hour, int Alerts);

/// <summary>A channel's mean share of the contributions in one time bucket, over its scored windows.</summary>
public sealed record ChannelContributionPoint(DateTimeOffset Bucket, string Channel, double MeanShare, int Windows);

/// <summary>How many windows had a filter among their top filters.</summary>
public sealed record FilterFrequency(string Layer, int Index, int Windows);
