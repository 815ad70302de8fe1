namespace TSViz.Monitor.Explaining;

/// <summary>
/// What would have made an alert's peak window normal (<paramref name="PeakWindowId"/>, its first and last sample at
/// <paramref name="WindowStart"/> and <paramref name="WindowEnd"/>): the changed cells in sensor units (at most
/// <paramref name="MaxCells"/>), the score before and the score of the changed window as ONNX Runtime rescored it
/// through the same preprocessing, and the same in plain words. <paramref name="Found"/> false: no change within the
/// budget was found (<paramref name="Reason"/> says why, <paramref name="ScoreAfter"/> is the lowest reached).
/// </summary>
internal sealed record CounterfactualMessage(
    string PeakWindowId,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    bool Found,
    double CloseLevel,
    float ScoreBefore,
    float ScoreAfter,
    IReadOnlyList<CounterfactualChangeMessage> Changes,
    string Summary,
    string? Reason,
    int MaxCells,
    DateTimeOffset ComputedAt,
    double ComputeMs);

/// <summary>
/// One changed cell: the channel, its step in the window (0 the oldest) and that step's time (interpolated evenly over
/// the window's span), the received value and the counterfactual one, in sensor units.
/// </summary>
internal sealed record CounterfactualChangeMessage(string Channel, int Step, DateTimeOffset Time, float From, float To);

/// <summary>
/// An alert's counterfactual as stored and as GET /api/alerts/{id}/counterfactual returns it: the message, and the
/// received and changed windows in full (one row per channel, sensor units).
/// </summary>
internal sealed record CounterfactualDocument(
    string AlertId,
    string Machine,
    string ModelVersion,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    IReadOnlyList<string> Channels,
    CounterfactualMessage Counterfactual,
    float[][] Received,
    float[][] Window);
