using System.Data.Common;

namespace TSViz.Monitor.Jobs;

/// <summary>The job_runs statements both stores run (the parameter marker differs: $ in SQLite, @ in PostgreSQL).</summary>
internal static class JobRunSql
{
    public static string Insert(char p) => $"""
        INSERT INTO job_runs (job, outcome, started_at, finished_at, duration_seconds, manual, error, detail, triggered_by)
        VALUES ({p}job, {p}outcome, {p}started, {p}finished, {p}duration, {p}manual, {p}error, {p}detail, {p}by);
        """;

    public static string Last(char p, bool success) => $"""
        SELECT outcome, started_at, finished_at, duration_seconds, manual, error, detail, triggered_by FROM job_runs
        WHERE job = {p}job {(success ? "AND outcome = 'succeeded'" : string.Empty)} ORDER BY id DESC LIMIT 1;
        """;

    public static string DeleteBefore(char p) => $"""
        DELETE FROM job_runs WHERE started_at < {p}cutoff
          AND id NOT IN (SELECT MAX(id) FROM job_runs GROUP BY job)
          AND id NOT IN (SELECT MAX(id) FROM job_runs WHERE outcome = 'succeeded' GROUP BY job);
        """;

    /// <summary>The insert's parameters, by name without the marker.</summary>
    public static IEnumerable<(string Name, object Value)> Values(JobRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        yield return ("job", run.Job);
        yield return ("outcome", run.Outcome);
        yield return ("started", run.StartedAt.ToUnixTimeMilliseconds());
        yield return ("finished", run.FinishedAt.ToUnixTimeMilliseconds());
        yield return ("duration", run.DurationSeconds);
        yield return ("manual", run.Manual ? 1 : 0);
        yield return ("error", (object?)run.Error ?? DBNull.Value);
        yield return ("detail", (object?)run.Detail ?? DBNull.Value);
        yield return ("by", (object?)run.TriggeredBy ?? DBNull.Value);
    }

    /// <summary>A row of <see cref="Last"/>, read by column name.</summary>
    public static JobRun Read(DbDataReader reader, string job)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string? Text(string column) => reader.IsDBNull(reader.GetOrdinal(column)) ? null : reader.GetString(reader.GetOrdinal(column));
        DateTimeOffset Time(string column) => DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(reader.GetOrdinal(column)), System.Globalization.CultureInfo.InvariantCulture));
        return new JobRun(job, reader.GetString(reader.GetOrdinal("outcome")), Time("started_at"), Time("finished_at"),
            Convert.ToDouble(reader.GetValue(reader.GetOrdinal("duration_seconds")), System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(reader.GetValue(reader.GetOrdinal("manual")), System.Globalization.CultureInfo.InvariantCulture) != 0,
            Text("error"), Text("detail"), Text("triggered_by"));
    }
}
