namespace TSViz.Plugins.History;

/// <summary>The history's storage itself: where it is, and creating or migrating its schema before anything uses it.</summary>
public interface IHistorySchema
{
    /// <summary>Where the history is kept, for the log (a file path, a server and database).</summary>
    string Location { get; }

    /// <summary>
    /// Creates the schema if needed and migrates one of an older version (idempotent). Storage that cannot be used is a
    /// <see cref="HistoryStoreException"/> whose message names it and the fix.
    /// </summary>
    Task InitializeAsync(CancellationToken cancellationToken);
}
