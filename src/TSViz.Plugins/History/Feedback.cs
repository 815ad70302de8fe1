namespace TSViz.Plugins.History;

/// <summary>What an operator said about an alert (its wire and column names: <see cref="FeedbackKinds"/>).</summary>
public enum FeedbackKind
{
    Acknowledge,
    Confirm,
    FalseAlarm,
}

public sealed record FeedbackRecord(long Id, string AlertId, FeedbackKind Kind, string Author, string? Comment, DateTimeOffset At)
{
    /// <summary>The author's role when the feedback was given (viewer, operator, engineer, admin); null before schema 3.</summary>
    public string? AuthorRole { get; init; }

    /// <summary>How the author signed in (api_key, jwt, none); null before schema 3.</summary>
    public string? AuthorMethod { get; init; }
}

/// <summary>Who gives feedback: the authenticated identity's name, and its role and sign-in method when known.</summary>
public sealed record FeedbackAuthor(string Name, string? Role = null, string? Method = null);
