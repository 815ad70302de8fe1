namespace TSViz.Plugins.History;

/// <summary>One page of results; <see cref="NextCursor"/> fetches the next page (null at the end, see <see cref="PageCursor"/>).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
