using Microsoft.Extensions.Options;

namespace TSViz.Monitor.Settings;

/// <summary>
/// What one validation of <see cref="MonitorOptions"/> found wrong; each settings class adds its own section's rules, and
/// every message names the key under Monitor:, what it accepts and the value it got.
/// </summary>
internal sealed class OptionFailures
{
    private readonly List<string> messages = [];

    public IReadOnlyList<string> Messages => messages;

    /// <summary>The validation's result: success when nothing failed, else every message.</summary>
    public ValidateOptionsResult Result() => messages.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(messages);

    /// <summary>Adds "Monitor:<paramref name="key"/> <paramref name="rule"/>, got '<paramref name="value"/>'" unless <paramref name="ok"/>.</summary>
    public void Check(bool ok, string key, string rule, object? value)
    {
        if (!ok)
        {
            messages.Add($"{MonitorOptions.Section}:{key} {rule}, got '{value}'");
        }
    }
}
