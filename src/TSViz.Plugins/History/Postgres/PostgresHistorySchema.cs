using System.Net.Sockets;
using Npgsql;
using TSViz.Plugins.History.Ado;

namespace TSViz.Plugins.History.Postgres;

/// <summary>
/// Creates the history's tables from the embedded history_schema_postgres.sql (every statement guarded, so it runs at
/// every start), records the schema version, and turns a database that cannot be used (no server, no such database,
/// a refused sign-in, no right to create tables, tables of another shape) into a <see cref="HistoryStoreException"/>
/// naming it and the fix.
/// </summary>
internal sealed class PostgresHistorySchema(PostgresConnectionFactory connections, TimeProvider time) : IHistorySchema
{
    /// <summary>The layout of the SQLite history's schema version 8, whose number it shares.</summary>
    public const int Version = 8;

    /// <summary>The advisory lock two monitors starting together take in turn (any fixed number: "TSVH").</summary>
    private const long InitializeLock = 0x5453_5648;

    /// <summary>The history's DDL.</summary>
    public static string Sql => HistoryDialect.Postgres.SchemaSql;

    public string Location => connections.Location;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await connections.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            // CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator: two monitors starting together take turns.
            await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@lock);", connection, transaction))
            {
                take.Parameters.AddWithValue("lock", InitializeLock);
                await take.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var create = new NpgsqlCommand(Sql, connection, transaction))
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var version = new NpgsqlCommand("INSERT INTO schema_info (version, created_at) VALUES (@v, @t) ON CONFLICT (version) DO NOTHING;", connection, transaction))
            {
                version.Parameters.AddWithValue("v", Version);
                version.Parameters.AddWithValue("t", time.GetUtcNow().ToUnixTimeMilliseconds());
                await version.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw Unusable(e);
        }
        catch (TimeoutException e)
        {
            throw new HistoryStoreException(
                $"history database {Location} did not answer in time ({e.Message}): check the server is up and reachable, or correct Host and Port of the history connection string", e);
        }
    }

    /// <summary>The one-line message for a database that cannot be used: what is wrong, in PostgreSQL's words, and the fix.</summary>
    private HistoryStoreException Unusable(NpgsqlException e)
    {
        string location = Location;
        string message = e switch
        {
            PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } p =>
                $"history database {location} does not exist ({p.MessageText}): create it (createdb {connections.Database}) or name another Database in the history connection string",
            PostgresException { SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification } p =>
                $"history database {location} refused the sign-in ({p.MessageText}): check Username and Password of the history connection string",
            PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege } p =>
                $"history database {location} does not let user '{connections.Username}' create or use the history tables ({p.MessageText}): grant it CREATE and USAGE on the schema, or connect as the owner of the tables",
            PostgresException { SqlState: PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.CannotConnectNow } p =>
                $"history database {location} does not accept connections now ({p.MessageText}): wait for the server to start or free connections, then start again",
            PostgresException p when p.SqlState.StartsWith("42", StringComparison.Ordinal) =>
                $"history database {location} holds tables this monitor cannot use ({p.SqlState}: {p.MessageText}): move them to another schema or name another Database in the history connection string",
            PostgresException p =>
                $"history database {location} cannot be used ({p.SqlState}: {p.MessageText}): see the server's log, or name another Database in the history connection string",
            _ when e.InnerException is SocketException or IOException or TimeoutException =>
                $"history database server {connections.Host}:{connections.Port} cannot be reached ({e.InnerException.Message}): start it, or correct Host and Port of the history connection string",
            _ =>
                $"history database {location} cannot be used ({e.Message}): check the server and the history connection string",
        };
        return new HistoryStoreException(message.ReplaceLineEndings(" "), e);
    }
}
