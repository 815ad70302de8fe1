using System.Data.Common;

namespace TSViz.Plugins.History.Ado;

/// <summary>Where a store's parts get their connections, and the SQL dialect they speak.</summary>
internal interface IHistoryConnections
{
    /// <summary>The database's dialect.</summary>
    HistoryDialect Dialect { get; }

    /// <summary>An open (pooled) connection.</summary>
    ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);
}
