using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MQTTnet;
using MQTTnet.Protocol;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// Debian's mosquitto-clients (mosquitto_sub, mosquitto_pub) as a reader of the README and docs/ runs them: the commands
/// they print, and how to tell that one worked.
/// </summary>
internal static partial class MosquittoClientCommands
{
    public const string Sub = "/usr/bin/mosquitto_sub";
    public const string Pub = "/usr/bin/mosquitto_pub";

    /// <summary>Fails with what to install when the clients are missing.</summary>
    public static void RequireInstalled()
    {
        foreach (string tool in new[] { Sub, Pub })
        {
            if (!File.Exists(tool))
            {
                throw new InvalidOperationException($"{tool} is missing: install the Debian package mosquitto-clients (scripts/test.sh does).");
            }
        }
    }

    /// <summary>
    /// Every mosquitto_sub or mosquitto_pub command in <paramref name="markdown"/>, once each: the lines of fenced code blocks
    /// that start with one, then the inline code spans that do (a span broken across lines is joined with a space, as
    /// Markdown renders it), each in the order they appear.
    /// </summary>
    public static IReadOnlyList<string> Extract(string markdown)
    {
        var commands = new List<string>();
        var prose = new StringBuilder();
        bool inBlock = false;
        foreach (string line in markdown.Split('\n'))
        {
            string trimmed = line.Trim();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                prose.Append('\n');
                continue;
            }

            if (inBlock)
            {
                if (IsCommand(trimmed))
                {
                    commands.Add(trimmed);
                }

                prose.Append('\n');
                continue;
            }

            prose.Append(line).Append('\n');
        }

        foreach (Match span in InlineCode().Matches(prose.ToString()))
        {
            string code = Regex.Replace(span.Groups[1].Value, @"\s*\n\s*", " ").Trim();
            if (IsCommand(code))
            {
                commands.Add(code);
            }
        }

        return [.. commands.Distinct(StringComparer.Ordinal)];
    }

    public static bool IsSubscriber(string command) => command.StartsWith("mosquitto_sub ", StringComparison.Ordinal);

    /// <summary>A line mosquitto_sub prints for an explanation, with -v (topic, space, payload) or without (payload only).</summary>
    public static bool IsExplanationLine(string line)
    {
        int start = line.IndexOf('{', StringComparison.Ordinal);
        if (start < 0)
        {
            return false;
        }

        try
        {
            using var json = JsonDocument.Parse(line[start..]);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("score", out _) && json.RootElement.TryGetProperty("saliency", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs a subscribing command until it prints an explanation line (then kills it, as a reader presses Ctrl-C), or until
    /// it exits or <paramref name="timeout"/> passes; returns the line, or fails with what the command printed.
    /// </summary>
    public static async Task<string> SubscribeUntilExplanationAsync(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var running = ShellCommand.Start(command);
        var deadline = DateTime.UtcNow + timeout;
        while (!running.Output.Any(IsExplanationLine) && !running.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, cancellationToken);
        }

        await Task.Delay(50, cancellationToken); // the last lines of a command that just exited
        return running.Output.FirstOrDefault(IsExplanationLine) ?? throw new Xunit.Sdk.XunitException(
            $"{(running.HasExited ? "Exited" : $"Still running after {timeout.TotalSeconds} s")} without printing an explanation line.\n{running.Transcript}");
    }

    /// <summary>
    /// Runs a publishing command (-t topic, -m message) with a subscriber to its topic on the broker at
    /// 127.0.0.1:<paramref name="port"/>: it must exit 0 and its message must reach the subscriber.
    /// </summary>
    public static async Task PublishAndSeeItArriveAsync(string command, int port, CancellationToken cancellationToken)
    {
        string[] words = await ShellCommand.WordsAsync(command, cancellationToken);
        string topic = ValueOf(words, "-t", "--topic") ?? throw new Xunit.Sdk.XunitException($"No -t topic in '{command}': only -t/-m publishers can be checked.");
        string message = ValueOf(words, "-m", "--message") ?? throw new Xunit.Sdk.XunitException($"No -m message in '{command}': only -t/-m publishers can be checked.");
        using var observer = new MqttClientFactory().CreateMqttClient();
        var received = new ConcurrentQueue<(string Topic, string Payload)>();
        observer.ApplicationMessageReceivedAsync += e =>
        {
            received.Enqueue((e.ApplicationMessage.Topic, Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload))));
            return Task.CompletedTask;
        };
        await MqttTestClients.ConnectWithRetry(observer, new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId($"readme-observer-{Guid.NewGuid():N}").Build(), cancellationToken);
        await observer.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);

        using var running = ShellCommand.Start(command);
        Assert.True(await running.WaitForExitAsync(TimeSpan.FromSeconds(30), cancellationToken), $"Still running after 30 s.\n{running.Transcript}");
        Assert.True(running.ExitCode == 0, $"Exit code {running.ExitCode}.\n{running.Transcript}");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!received.Contains((topic, message)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, cancellationToken);
        }

        Assert.True(received.Contains((topic, message)), $"'{message}' never arrived on {topic} ({received.Count} other messages).\n{running.Transcript}");
        await observer.DisconnectAsync(cancellationToken: cancellationToken);
    }

    private static bool IsCommand(string text) => text.StartsWith("mosquitto_sub ", StringComparison.Ordinal) || text.StartsWith("mosquitto_pub ", StringComparison.Ordinal);

    private static string? ValueOf(string[] words, string shortName, string longName)
    {
        int i = Array.FindIndex(words, w => w == shortName || w == longName);
        return i >= 0 && i + 1 < words.Length ? words[i + 1] : null;
    }

    [GeneratedRegex("`([^`\n]+(?:\n[^`\n]+)*)`")]
    private static partial Regex InlineCode();
}
