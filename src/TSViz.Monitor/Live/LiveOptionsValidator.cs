using Microsoft.Extensions.Options;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>
/// Validates at start the settings only the live path can judge: the explanation methods it runs
/// (<see cref="LiveExplanationSet"/>), the Unified Namespace mirror's template (<see cref="UnsMirror"/>) and the C
/// allocator (<see cref="NativeAllocator"/>). Every message names the key, what it accepts and the value it got.
/// </summary>
internal sealed class LiveOptionsValidator : IValidateOptions<MonitorOptions>
{
    public ValidateOptionsResult Validate(string? name, MonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new OptionFailures();
        failures.Check(LiveExplanationSet.TryParse(options.Explanations, out _, out string? explanationsProblem), LiveExplanationSet.Key, explanationsProblem ?? string.Empty,
            string.Join(", ", options.Explanations ?? []));

        // A topic pattern that does not parse is Monitor:Mqtt's own failure; the mirror is judged against one that does.
        var mqtt = options.Mqtt;
        if (TSViz.Plugins.Ingest.TopicPattern.TryParse(mqtt.TopicPattern, mqtt.MachineId, out _) is { } topics)
        {
            _ = UnsMirror.TryCreate(mqtt.UnsMirror, topics, out string? mirrorProblem);
            failures.Check(mirrorProblem is null, "Mqtt:UnsMirror", $"is not usable: it {mirrorProblem}", mqtt.UnsMirror);
        }

        string? allocator = options.Health.NativeAllocator;
        failures.Check(NativeAllocator.Choices.Contains(allocator?.Trim().ToLowerInvariant()), "Health:NativeAllocator", $"must be one of {string.Join(", ", NativeAllocator.Choices)}", allocator);
        return failures.Result();
    }
}
