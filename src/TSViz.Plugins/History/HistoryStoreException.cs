namespace TSViz.Plugins.History;

/// <summary>
/// The history's storage cannot be used: a file SQLite refuses (not a SQLite database, unreadable, locked by another
/// process), or a PostgreSQL database that cannot be reached or used (no server, no such database, a refused sign-in,
/// tables of another shape). The message is one line that names the file or database and what to do about it, fit to
/// stop the host with.
/// </summary>
public sealed class HistoryStoreException : Exception
{
    /// <summary>An exception without a message.</summary>
    public HistoryStoreException()
    {
    }

    /// <summary>An exception with its one-line message.</summary>
    public HistoryStoreException(string message)
        : base(message)
    {
    }

    /// <summary>An exception with its one-line message and the storage's own error.</summary>
    public HistoryStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
