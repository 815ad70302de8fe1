using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TSViz.Monitor.Cli;

namespace TSViz.Monitor.MqttSecurity;

/// <summary>
/// `mqtt-user create --name NAME --role gateway|viewer [--password-stdin] [--index N]`: a user of the embedded broker.
/// Prints the password once with the configuration entry (JSON and TSVIZ_ variables) and writes nothing anywhere.
/// </summary>
internal static class MqttUserVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var name = new Option<string>("--name") { Description = "The user name the client connects with.", Required = true };
        var role = new Option<string>("--role") { Description = "gateway (publishes telemetry) or viewer (subscribes to the monitor's output).", Required = true };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Hash the password read from standard input instead of generating one." };
        var index = new Option<int>("--index") { Description = "The entry's position in Monitor:Mqtt:Users, for the environment-variable form.", DefaultValueFactory = _ => 0 };
        var create = new Command("create", "Make a user: a strong random password (or one from stdin), printed once with its PBKDF2-SHA256 hash entry.")
        {
            name, role, passwordStdin, index,
        };
        create.SetAction((parse, cancellationToken) => VerbErrors.RunAsync(error, async () =>
        {
            string user = parse.GetValue(name)!;
            string userRole = parse.GetValue(role)!;
            int position = parse.GetValue(index);
            if (string.IsNullOrWhiteSpace(user) || user.Contains(':', StringComparison.Ordinal) || user.Any(char.IsControl))
            {
                throw new ArgumentException($"--name must be a non-empty name without ':' or control characters, got '{user}'");
            }

            if (!BrokerAccessPolicy.TryParseRole(userRole, out _))
            {
                throw new ArgumentException($"--role must be gateway or viewer, got '{userRole}'");
            }

            if (position < 0)
            {
                throw new ArgumentException($"--index must not be negative, got {position}");
            }

            bool chosen = parse.GetValue(passwordStdin);
            string? password = chosen ? (await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false))?.TrimEnd('\r') : PasswordHash.NewPassword();
            if (password is null || password.Length < 12)
            {
                throw new ArgumentException("--password-stdin needs a password of at least 12 characters on standard input");
            }

            string hash = PasswordHash.Create(password);
            await output.WriteLineAsync(Describe(user, userRole, chosen ? null : password, hash, position)).ConfigureAwait(false);
            return 0;
        }));
        return new Command("mqtt-user", "Users of the embedded MQTT broker (docs/mqtt.md, \"MQTT security\").") { create };
    }

    private static string Describe(string user, string role, string? password, string hash, int index)
    {
        var text = new StringBuilder();
        if (password is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Password of {user} (shown only now; give it to the client, it is stored nowhere):");
            text.AppendLine(password).AppendLine();
        }

        text.AppendLine("Entry for Monitor:Mqtt:Users in config/monitor.json:");
        // Relaxed escaping prints base64's '+' as is, not as \u002B (the value is ASCII).
        using (var buffer = new MemoryStream())
        {
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartObject();
                json.WriteString("Username", user);
                json.WriteString("Role", role);
                json.WriteString("PasswordHash", hash);
                json.WriteEndObject();
            }

            text.AppendLine(Encoding.UTF8.GetString(buffer.ToArray())).AppendLine();
        }

        string prefix = string.Create(CultureInfo.InvariantCulture, $"TSVIZ_Monitor__Mqtt__Users__{index}__");
        text.AppendLine(CultureInfo.InvariantCulture, $"Or as environment variables (entry {index}; single quotes keep the $ signs):");
        text.AppendLine(CultureInfo.InvariantCulture, $"{prefix}Username='{user.Replace("'", "'\\''", StringComparison.Ordinal)}'");
        text.AppendLine(CultureInfo.InvariantCulture, $"{prefix}Role={role}");
        text.Append(CultureInfo.InvariantCulture, $"{prefix}PasswordHash='{hash}'");
        return text.ToString();
    }
}
