namespace TSViz.Monitor.Settings;

/// <summary>
/// The explanation history: a SQLite file (the default, one node) or a PostgreSQL database (nodes of a cluster share
/// it); the Quartz job store and the job runs live in the same database.
/// </summary>
public sealed class HistorySettings
{
    /// <summary>The SQLite file, the default.</summary>
    public const string Sqlite = "sqlite";

    /// <summary>A PostgreSQL database, given by <see cref="ConnectionString"/>.</summary>
    public const string Postgres = "postgres";

    public bool Enabled { get; set; } = true;

    /// <summary><c>sqlite</c> (the file at <see cref="Path"/>) or <c>postgres</c> (the database <see cref="ConnectionString"/> names).</summary>
    public string Provider { get; set; } = Sqlite;

    /// <summary>The SQLite file (created with its folder; WAL mode).</summary>
    public string Path { get; set; } = "artifacts/data/history.db";

    /// <summary>
    /// With Provider postgres: an Npgsql connection string (Host, Port, Database, Username, Password or a passfile). The
    /// tables are created at start; the user needs CREATE on the database's public schema.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Whether the history is PostgreSQL.</summary>
    public bool IsPostgres => string.Equals(Provider?.Trim(), Postgres, StringComparison.OrdinalIgnoreCase);

    /// <summary>Share of normal windows whose full explanation and input are kept (alert windows always are).</summary>
    public double FullExplanationSampleRate { get; set; } = 0.01;

    public double RetainWindowsDays { get; set; } = 30;

    public double RetainDetailsDays { get; set; } = 7;

    public double RetainAlertsDays { get; set; } = 365;

    public double RetainAnalysesDays { get; set; } = 90;

    /// <summary>How long a history statement waits for a lock held by another connection before it fails (and is retried).</summary>
    public double BusyTimeoutSeconds { get; set; } = 5;

    /// <summary>
    /// Group commit: the live writer starts a transaction at most this often, so one transaction holds what arrived
    /// meanwhile (0: a transaction as soon as anything is waiting). Each transaction rewrites the pages where its rows
    /// land, so larger transactions write fewer bytes per window. Input is acknowledged once its transaction commits,
    /// so this adds up to the interval to the acknowledgement, not to the explanation's publication.
    /// </summary>
    public double CommitIntervalSeconds { get; set; } = 0.1;

    /// <summary>Section Monitor:History's rules.</summary>
    internal void Validate(OptionFailures failures)
    {
        failures.Check(CommitIntervalSeconds is >= 0 and <= 5, "History:CommitIntervalSeconds", "must lie in [0, 5]", CommitIntervalSeconds);
        failures.Check(BusyTimeoutSeconds is > 0 and <= 600, "History:BusyTimeoutSeconds", "must lie in (0, 600]", BusyTimeoutSeconds);
        string? provider = Provider?.Trim().ToLowerInvariant();
        failures.Check(provider is Sqlite or Postgres, "History:Provider", $"must be {Sqlite} or {Postgres}", Provider);
        failures.Check(!Enabled || provider != Sqlite || !string.IsNullOrWhiteSpace(Path), "History:Path", "must name a SQLite file", Path);
        if (Enabled && provider == Postgres)
        {
            string? problem = ConnectionStringProblem(ConnectionString);
            failures.Check(problem is null, "History:ConnectionString",
                $"must be an Npgsql connection string naming at least Host and Database, e.g. Host=127.0.0.1;Port=5432;Database=tsviz;Username=tsviz ({problem})",
                "(not shown: it may hold a password)");
        }

        failures.Check(FullExplanationSampleRate is >= 0 and <= 1, "History:FullExplanationSampleRate", "must lie in [0, 1]", FullExplanationSampleRate);
        foreach (var (key, days) in new[] { ("History:RetainWindowsDays", RetainWindowsDays), ("History:RetainDetailsDays", RetainDetailsDays), ("History:RetainAlertsDays", RetainAlertsDays), ("History:RetainAnalysesDays", RetainAnalysesDays) })
        {
            failures.Check(days > 0, key, "must be positive", days);
        }
    }

    private static string? ConnectionStringProblem(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return "it is empty";
        }

        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return string.IsNullOrWhiteSpace(builder.Host) ? "no Host" : string.IsNullOrWhiteSpace(builder.Database) ? "no Database" : null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }
}
