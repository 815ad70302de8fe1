using TSViz.Explain.Onnx;

namespace TSViz.Monitor.Cli;

/// <summary>Turns the expected failures of a verb (bad files, bad arguments) into one clear line and exit code 2.</summary>
internal static class VerbErrors
{
    public const int BadInput = 2;

    public static async Task<int> RunAsync(TextWriter error, Func<Task<int>> verb)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(verb);
        try
        {
            return await verb().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ModelFileException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return BadInput;
        }
    }

    public static Task<int> Run(TextWriter error, Func<int> verb)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(verb);
        try
        {
            return Task.FromResult(verb());
        }
        catch (Exception ex) when (ex is ModelFileException or FileNotFoundException or InvalidDataException or ArgumentException)
        {
            error.WriteLine($"error: {ex.Message}");
            return Task.FromResult(BadInput);
        }
    }
}
