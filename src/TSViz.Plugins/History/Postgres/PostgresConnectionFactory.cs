using System.Data.Common;
using System.Globalization;
using Npgsql;
using TSViz.Plugins.History.Ado;

namespace TSViz.Plugins.History.Postgres;

/// <summary>
/// Connections to the history database: one pooled <see cref="NpgsqlDataSource"/> per store, made from the connection
/// string once, and where it is (server and database, never the password) for the log and the error messages.
/// </summary>
internal sealed class PostgresConnectionFactory : IHistoryConnections, IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource dataSource;

    public PostgresConnectionFactory(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new ArgumentException("The history connection string names no Host.", nameof(connectionString));
        }

        Host = builder.Host;
        Port = builder.Port;
        Database = string.IsNullOrEmpty(builder.Database) ? builder.Username ?? string.Empty : builder.Database;
        Username = builder.Username;
        Location = string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}/{Database}");
        dataSource = NpgsqlDataSource.Create(builder);
    }

    /// <summary>The server's host (a name, an address or a unix socket folder).</summary>
    public string Host { get; }

    /// <summary>The server's port.</summary>
    public int Port { get; }

    /// <summary>The database (the user's name when the connection string names none, as PostgreSQL does).</summary>
    public string Database { get; }

    /// <summary>The user the store signs in as, when the connection string names one.</summary>
    public string? Username { get; }

    /// <summary>"{host}:{port}/{database}".</summary>
    public string Location { get; }

    /// <inheritdoc/>
    public HistoryDialect Dialect => HistoryDialect.Postgres;

    /// <summary>An open pooled connection.</summary>
    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) => dataSource.OpenConnectionAsync(cancellationToken);

    /// <inheritdoc/>
    public async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) => await OpenAsync(cancellationToken).ConfigureAwait(false);

    public void Dispose() => dataSource.Dispose();

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
