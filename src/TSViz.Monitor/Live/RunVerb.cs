using System.CommandLine;
using Microsoft.Extensions.Options;
using TSViz.Explain.Onnx;

namespace TSViz.Monitor.Live;

/// <summary>`run` (also the default verb): the live monitor on its configuration (embedded defaults out of the box).</summary>
internal static class RunVerb
{
    public static Command Create(TextWriter error)
    {
        var command = new Command("run", "Run the live monitor: MQTT in, ONNX Runtime scoring, TSViz explanations and alerts out, /metrics and /health over HTTP.");
        command.SetAction((_, cancellationToken) => RunAsync(error, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            await using var app = MonitorHost.Build();

            // Fail fast, with one clear line, on a bad configuration or model before anything starts.
            _ = app.Services.GetRequiredService<IOptions<MonitorOptions>>().Value;
            _ = app.Services.GetRequiredService<LiveModel>();
            await app.RunAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await error.WriteLineAsync($"error: invalid configuration ({MonitorHost.ConfigFile} or {MonitorHost.EnvironmentPrefix}Monitor__... variables): {string.Join("; ", ex.Failures)}").ConfigureAwait(false);
            return 2;
        }
        catch (ModelFileException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
    }
}
