using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace TSViz.Tests.Shared;

/// <summary>
/// Eclipse Tahu's JavaScript Sparkplug codec (npm sparkplug-payload, tests/interop/sparkplug), run with node: the
/// independent implementation the interoperability tests check this repository's codec against. Its packages are
/// installed with <c>npm ci</c> (the committed lock file) when they are missing, once per test run.
/// </summary>
internal static class SparkplugJs
{
    private static readonly string Folder = Path.Combine(RepositoryPaths.Root, "tests", "interop", "sparkplug");

    private static readonly Lazy<Task> Installed = new(InstallAsync);

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Encodes payloads given as sparkplug-payload objects (64-bit numbers as decimal strings).</summary>
    public static async Task<byte[][]> EncodeAsync(params JsonObject[] payloads)
    {
        string output = await RunScriptAsync("encode", new JsonArray([.. payloads]).ToJsonString());
        return [.. JsonNode.Parse(output)!.AsArray().Select(b => Convert.FromBase64String(b!.GetValue<string>()))];
    }

    /// <summary>Decodes payloads to sparkplug-payload objects (64-bit numbers as decimal strings).</summary>
    public static async Task<JsonObject[]> DecodeAsync(params ReadOnlyMemory<byte>[] payloads)
    {
        var input = new JsonArray([.. payloads.Select(p => JsonValue.Create(Convert.ToBase64String(p.Span)))]);
        string output = await RunScriptAsync("decode", input.ToJsonString());
        return [.. JsonNode.Parse(output)!.AsArray().Select(p => p!.AsObject())];
    }

    /// <summary>A sparkplug-payload metric object; null fields are left out.</summary>
    public static JsonObject Metric(string? name, string type, JsonNode? value, ulong? alias = null, DateTimeOffset? timestamp = null)
    {
        var metric = new JsonObject { ["type"] = type, ["value"] = value };
        if (name is not null)
        {
            metric["name"] = name;
        }

        if (alias is { } a)
        {
            metric["alias"] = a.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (timestamp is { } t)
        {
            metric["timestamp"] = Milliseconds(t);
        }

        return metric;
    }

    /// <summary>A sparkplug-payload payload object.</summary>
    public static JsonObject Payload(DateTimeOffset timestamp, ulong? seq, params JsonObject[] metrics)
    {
        var payload = new JsonObject { ["timestamp"] = Milliseconds(timestamp), ["metrics"] = new JsonArray([.. metrics]) };
        if (seq is { } s)
        {
            payload["seq"] = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return payload;
    }

    /// <summary>Unix milliseconds as the decimal string both sides use for 64-bit numbers.</summary>
    public static string Milliseconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<string> RunScriptAsync(string mode, string input)
    {
        await Installed.Value;
        return await RunAsync("node", ["sparkplug.js", mode], input, TimeSpan.FromSeconds(60));
    }

    private static async Task InstallAsync()
    {
        bool present = File.Exists(Path.Combine(Folder, "node_modules", "sparkplug-payload", "package.json"))
            && File.Exists(Path.Combine(Folder, "node_modules", "long", "package.json"));
        if (!present)
        {
            await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], null, TimeSpan.FromMinutes(5));
        }
    }

    private static async Task<string> RunAsync(string program, string[] arguments, string? input, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = Folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = Utf8,
            StandardOutputEncoding = Utf8,
            StandardErrorEncoding = Utf8,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        string command = $"{program} {string.Join(' ', arguments)}";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"'{command}' did not start.");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"'{program}' is not installed ({ex.Message}); the Sparkplug interoperability tests need node and npm (Debian: apt-get install nodejs npm, as scripts/test.sh does).", ex);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input);
            }

            process.StandardInput.Close();
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{command}' in {Folder} took longer than {timeout}.");
            }

            return process.ExitCode == 0
                ? await output
                : throw new InvalidOperationException($"'{command}' in {Folder} exited with {process.ExitCode}: {await error}");
        }
    }
}
