namespace TSViz.Plugins.History;

/// <summary>One page of results.</summary>
/// <param name="Items">The rows, newest first.</param>
/// <param name="NextCursor">Fetches the next page (null at the end; <see cref="PageCursor"/>).</param>
/// <typeparam name="T">The record type.</typeparam>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
