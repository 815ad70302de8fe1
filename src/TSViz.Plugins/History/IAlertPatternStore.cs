using System.Security.Cryptography;
using System.Text;

namespace TSViz.Plugins.History;

/// <summary>How patterns are named.</summary>
public static class PatternIds
{
    /// <summary>
    /// A pattern's id from its earliest alert's id: "p-" and the first 12 hex digits of its SHA-256, so a pattern keeps
    /// its id from one grouping to the next while that alert stays in it.
    /// </summary>
    public static string Of(string earliestAlertId)
    {
        ArgumentNullException.ThrowIfNull(earliestAlertId);
        return "p-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(earliestAlertId)))[..12];
    }
}

/// <summary>An alert's recurring fault pattern, as the nightly analysis assigned it.</summary>
/// <param name="AlertId">The alert.</param>
/// <param name="PatternId">The pattern it belongs to.</param>
public sealed record PatternAssignment(string AlertId, string PatternId);

/// <summary>One member of a pattern with its explanation signature (what a new alert is matched against).</summary>
/// <param name="PatternId">The pattern.</param>
/// <param name="Alert">The member alert, with its signature.</param>
public sealed record PatternMember(string PatternId, AlertRecord Alert);

/// <summary>
/// A recurring fault pattern: the alerts of one model version whose explanations are alike (the nightly analysis
/// clusters their signatures), where and when it occurred, and what operators said about its alerts. An alert's
/// verdict is its latest confirm or false_alarm feedback; <see cref="MostlyFalseAlarms"/> when more than half of the
/// judged alerts were false alarms.
/// </summary>
/// <param name="PatternId">The pattern's id (stable while its earliest alert stays in it).</param>
/// <param name="ModelVersion">The model version whose alerts it groups.</param>
/// <param name="Occurrences">Its alerts.</param>
/// <param name="Machines">The machines it occurred on, by name.</param>
/// <param name="FirstSeen">The earliest alert's start.</param>
/// <param name="LastSeen">The latest alert's start.</param>
/// <param name="Confirmed">Alerts whose latest verdict is confirm.</param>
/// <param name="FalseAlarms">Alerts whose latest verdict is false_alarm.</param>
/// <param name="LastComment">The latest feedback comment on any of its alerts; null when none was given.</param>
/// <param name="LastCommentAt">When that comment was given.</param>
/// <param name="AlertIds">Its alerts, newest first (at most 50).</param>
/// <param name="ComputedAt">When the nightly analysis assigned it.</param>
public sealed record PatternSummary(
    string PatternId, string ModelVersion, int Occurrences, IReadOnlyList<string> Machines, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    int Confirmed, int FalseAlarms, string? LastComment, DateTimeOffset? LastCommentAt, IReadOnlyList<string> AlertIds, DateTimeOffset ComputedAt)
{
    /// <summary>More than half of the alerts operators judged were false alarms.</summary>
    public bool MostlyFalseAlarms => FalseAlarms > Confirmed;
}

/// <summary>Recurring fault patterns: the nightly analysis's assignment of alerts to patterns, and what each pattern says.</summary>
public interface IAlertPatternStore
{
    /// <summary>The alerts that started at or after <paramref name="since"/>, newest first, at most <paramref name="limit"/>, with their signatures.</summary>
    Task<IReadOnlyList<AlertRecord>> AlertsSinceAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken);

    /// <summary>Replaces every pattern assignment of <paramref name="modelVersion"/>'s alerts with <paramref name="assignments"/>, in one transaction.</summary>
    Task ReplacePatternsAsync(string modelVersion, IReadOnlyList<PatternAssignment> assignments, DateTimeOffset computedAt, CancellationToken cancellationToken);

    /// <summary>Assigns one alert to a pattern (the live path's match of a new alert), replacing its earlier assignment.</summary>
    Task AssignPatternAsync(string alertId, string patternId, string modelVersion, DateTimeOffset computedAt, CancellationToken cancellationToken);

    /// <summary>The pattern and its summary; null when no alert belongs to it.</summary>
    Task<PatternSummary?> PatternAsync(string patternId, CancellationToken cancellationToken);

    /// <summary>The pattern the alert was assigned to; null when it has none (yet).</summary>
    Task<string?> PatternIdOfAsync(string alertId, CancellationToken cancellationToken);

    /// <summary>The members of every pattern of <paramref name="modelVersion"/>, with their signatures.</summary>
    Task<IReadOnlyList<PatternMember>> PatternMembersAsync(string modelVersion, CancellationToken cancellationToken);
}

/// <summary>A recurring pattern in plain words, as the alert page and the MQTT alert say it.</summary>
public static class PatternWords
{
    /// <summary>
    /// "Seen 5 times on m3 and m7 between 2026-11-04 and 2026-12-03; 4 confirmed, 1 false alarm; last comment: bearing
    /// overheating.", or "First time this pattern is seen." for a pattern of one alert.
    /// </summary>
    /// <param name="occurrences">The pattern's alerts, this one included.</param>
    /// <param name="machines">The machines it occurred on.</param>
    /// <param name="firstSeen">Its earliest alert's start.</param>
    /// <param name="lastSeen">Its latest alert's start.</param>
    /// <param name="confirmed">Alerts operators confirmed.</param>
    /// <param name="falseAlarms">Alerts operators marked as false alarms.</param>
    /// <param name="lastComment">The latest comment on any of its alerts.</param>
    public static string Summary(int occurrences, IReadOnlyList<string> machines, DateTimeOffset firstSeen, DateTimeOffset lastSeen, int confirmed, int falseAlarms, string? lastComment)
    {
        if (occurrences <= 1)
        {
            return "First time this pattern is seen.";
        }

        string where = machines.Count switch
        {
            0 => string.Empty,
            1 => $" on {machines[0]}",
            _ => $" on {string.Join(", ", machines.Take(machines.Count - 1))} and {machines[^1]}",
        };
        string when = firstSeen.UtcDateTime.Date == lastSeen.UtcDateTime.Date
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" on {lastSeen.UtcDateTime:yyyy-MM-dd}")
            : string.Create(System.Globalization.CultureInfo.InvariantCulture, $" between {firstSeen.UtcDateTime:yyyy-MM-dd} and {lastSeen.UtcDateTime:yyyy-MM-dd}");
        string verdicts = confirmed + falseAlarms == 0
            ? "no operator verdict yet"
            : $"{confirmed} confirmed, {falseAlarms} false alarm{(falseAlarms == 1 ? string.Empty : "s")}{(falseAlarms > confirmed ? ": mostly false alarms" : string.Empty)}";
        string comment = string.IsNullOrWhiteSpace(lastComment) ? string.Empty : $"; last comment: {lastComment}";
        return $"Seen {occurrences} times{where}{when}; {verdicts}{comment}.";
    }
}
