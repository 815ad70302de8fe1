namespace TSViz.Plugins.History;

/// <summary>What an operator said about an alert (its wire and column names: <see cref="FeedbackKinds"/>).</summary>
public enum FeedbackKind
{
    /// <summary>Seen; being looked at.</summary>
    Acknowledge,

    /// <summary>A real fault.</summary>
    Confirm,

    /// <summary>Not a fault (the explanation says why the model thought so).</summary>
    FalseAlarm,
}

/// <summary>Feedback as stored.</summary>
/// <param name="Id">The store's id, increasing.</param>
/// <param name="AlertId">The alert it is about.</param>
/// <param name="Kind">What was said.</param>
/// <param name="Author">Who said it (the signed-in identity's name).</param>
/// <param name="Comment">Free text, at most 4000 characters.</param>
/// <param name="At">When (milliseconds).</param>
public sealed record FeedbackRecord(long Id, string AlertId, FeedbackKind Kind, string Author, string? Comment, DateTimeOffset At)
{
    /// <summary>The author's role when the feedback was given (viewer, operator, engineer, admin); null before schema 3.</summary>
    public string? AuthorRole { get; init; }

    /// <summary>How the author signed in (api_key, jwt, none); null before schema 3.</summary>
    public string? AuthorMethod { get; init; }
}

/// <summary>Who gives feedback.</summary>
/// <param name="Name">The authenticated identity's name.</param>
/// <param name="Role">Its role, when known (viewer, operator, engineer, admin).</param>
/// <param name="Method">How it signed in, when known (api_key, jwt, none).</param>
public sealed record FeedbackAuthor(string Name, string? Role = null, string? Method = null);
