using Microsoft.Extensions.Options;

namespace TSViz.Monitor.Settings;

/// <summary>Validates <see cref="MonitorOptions"/> at start; each section's rules live with its settings class.</summary>
internal sealed class MonitorOptionsValidator : IValidateOptions<MonitorOptions>
{
    public ValidateOptionsResult Validate(string? name, MonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new OptionFailures();
        options.Validate(failures);
        return failures.Result();
    }
}
