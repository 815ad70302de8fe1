namespace TSViz.Plugins.History;

/// <summary>
/// The names of the feedback kinds as the HTTP API, the history's rows and the web view spell them
/// (acknowledge, confirm, false_alarm).
/// </summary>
public static class FeedbackKinds
{
    /// <summary>Every name, in the order of <see cref="FeedbackKind"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["acknowledge", "confirm", "false_alarm"];

    /// <summary>The name of a kind.</summary>
    public static string Name(FeedbackKind kind) => kind switch
    {
        FeedbackKind.Acknowledge => "acknowledge",
        FeedbackKind.Confirm => "confirm",
        _ => "false_alarm",
    };

    /// <summary>The kind a name stands for; an unknown name is an <see cref="ArgumentException"/>.</summary>
    public static FeedbackKind Parse(string name) => name switch
    {
        "acknowledge" => FeedbackKind.Acknowledge,
        "confirm" => FeedbackKind.Confirm,
        "false_alarm" => FeedbackKind.FalseAlarm,
        _ => throw new ArgumentException($"Unknown feedback kind '{name}' (acknowledge, confirm, false_alarm).", nameof(name)),
    };
}
