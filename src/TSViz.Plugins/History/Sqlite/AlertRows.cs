using Microsoft.Data.Sqlite;

namespace TSViz.Plugins.History.Sqlite;

/// <summary>Reads alert rows by column name (the ordinals are looked up once per result set).</summary>
internal sealed class AlertRows
{
    /// <summary>The columns of an alert record, from the alerts table (or a subquery of it) as a, with the kind of its latest feedback.</summary>
    public const string Columns = """
        a.id, a.machine, a.model_version, a.episode, a.status, a.since, a.closed_at, a.peak_score, a.peak_window_id, a.dominant_channel,
        a.contributions, a.top_filters, a.signature, a.signature_saliency, a.close_reason,
        (SELECT f.kind FROM feedback f WHERE f.alert_id = a.id ORDER BY f.at DESC, f.id DESC LIMIT 1) AS last_feedback
        """;

    private readonly SqliteDataReader reader;
    private readonly int id;
    private readonly int machine;
    private readonly int modelVersion;
    private readonly int episode;
    private readonly int status;
    private readonly int since;
    private readonly int closedAt;
    private readonly int peakScore;
    private readonly int peakWindowId;
    private readonly int dominantChannel;
    private readonly int contributions;
    private readonly int topFilters;
    private readonly int signature;
    private readonly int signatureSaliency;
    private readonly int closeReason;
    private readonly int lastFeedback;

    private AlertRows(SqliteDataReader reader)
    {
        this.reader = reader;
        id = reader.GetOrdinal("id");
        machine = reader.GetOrdinal("machine");
        modelVersion = reader.GetOrdinal("model_version");
        episode = reader.GetOrdinal("episode");
        status = reader.GetOrdinal("status");
        since = reader.GetOrdinal("since");
        closedAt = reader.GetOrdinal("closed_at");
        peakScore = reader.GetOrdinal("peak_score");
        peakWindowId = reader.GetOrdinal("peak_window_id");
        dominantChannel = reader.GetOrdinal("dominant_channel");
        contributions = reader.GetOrdinal("contributions");
        topFilters = reader.GetOrdinal("top_filters");
        signature = reader.GetOrdinal("signature");
        signatureSaliency = reader.GetOrdinal("signature_saliency");
        closeReason = reader.GetOrdinal("close_reason");
        lastFeedback = reader.GetOrdinal("last_feedback");
    }

    /// <summary>Every row the command returns, as records.</summary>
    public static async Task<List<AlertRecord>> ReadAllAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var items = new List<AlertRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new AlertRows(reader);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(rows.Read());
        }

        return items;
    }

    private AlertRecord Read() => new()
    {
        Id = reader.GetString(id),
        Machine = reader.GetString(machine),
        ModelVersion = reader.GetString(modelVersion),
        Episode = reader.GetInt64(episode),
        Status = reader.GetString(status),
        Since = reader.GetTime(since),
        ClosedAt = reader.GetTimeOrNull(closedAt),
        PeakScore = reader.GetDouble(peakScore),
        PeakWindowId = reader.GetString(peakWindowId),
        DominantChannel = reader.GetStringOrNull(dominantChannel),
        ChannelContributions = ColumnCodec.Contributions(reader.GetString(contributions)),
        TopFilters = ColumnCodec.Filters(reader.GetString(topFilters)),
        Signature = ColumnCodec.Floats(reader.GetBlob(signature)),
        SignatureSaliencyLength = reader.GetInt32(signatureSaliency),
        LastFeedback = reader.GetStringOrNull(lastFeedback),
        CloseReason = reader.GetStringOrNull(closeReason),
    };
}
