namespace TSViz.Plugins.History;

/// <summary>Alerts a machine opened in one hour.</summary>
/// <param name="Machine">The machine.</param>
/// <param name="Hour">The hour's start.</param>
/// <param name="Alerts">Episodes opened in it.</param>
public sealed record HourlyCount(string Machine, DateTimeOffset Hour, int Alerts);

/// <summary>A channel's mean share of the contributions in one time bucket, over its scored windows.</summary>
/// <param name="Bucket">The bucket's start.</param>
/// <param name="Channel">The channel.</param>
/// <param name="MeanShare">Its mean contribution (0-1).</param>
/// <param name="Windows">Scored windows in the bucket.</param>
public sealed record ChannelContributionPoint(DateTimeOffset Bucket, string Channel, double MeanShare, int Windows);

/// <summary>How many windows had a filter among their top filters.</summary>
/// <param name="Layer">The filter's layer.</param>
/// <param name="Index">Its index in the layer.</param>
/// <param name="Windows">Windows it was among the top filters of.</param>
public sealed record FilterFrequency(string Layer, int Index, int Windows);
