using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TSViz.Monitor.Cli;

namespace TSViz.Monitor.Security;

/// <summary>
/// `keys create --name NAME --role ROLE [--index N]`: a new API key, printed once with the configuration entry that
/// admits it (its hash). The key is written nowhere: whoever runs this hands it to its user.
/// </summary>
internal static class KeysVerb
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var name = new Option<string>("--name") { Description = "Who uses the key (a person, Prometheus, a script); shown as the author of its feedback.", Required = true };
        var role = new Option<string>("--role") { Description = "viewer, operator, engineer or admin." , Required = true };
        var index = new Option<int>("--index") { Description = "Position of the entry in Monitor:Security:ApiKeys (for the environment variable form).", DefaultValueFactory = _ => 0 };
        var create = new Command("create", "Create an API key: prints the key once and its Monitor:Security:ApiKeys entry.") { name, role, index };
        create.SetAction((parse, _) => VerbErrors.Run(error, () =>
        {
            string who = parse.GetValue(name)!.Trim();
            string what = parse.GetValue(role)!;
            int n = parse.GetValue(index);
            if (who.Length is 0 or > 100)
            {
                throw new ArgumentException($"--name must name the key's user (1-100 characters), got '{who}'");
            }

            if (!Roles.IsKnown(what))
            {
                throw new ArgumentException($"--role must be one of {string.Join(", ", Roles.All)}, got '{what}'");
            }

            if (n < 0)
            {
                throw new ArgumentException($"--index must not be negative, got {n.ToString(CultureInfo.InvariantCulture)}");
            }

            string key = ApiKeys.Create();
            string hash = ApiKeys.Hash(key);
            string i = n.ToString(CultureInfo.InvariantCulture);
            output.WriteLine($"key (shown once; give it to {who}, it is stored nowhere): {key}");
            output.WriteLine();
            output.WriteLine("config/monitor.json, in Monitor:Security:ApiKeys:");
            output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string> { ["Name"] = who, ["Role"] = what, ["Hash"] = hash }));
            output.WriteLine();
            output.WriteLine("or as environment variables:");
            output.WriteLine($"TSVIZ_Monitor__Security__ApiKeys__{i}__Name={Quote(who)}");
            output.WriteLine($"TSVIZ_Monitor__Security__ApiKeys__{i}__Role={what}");
            output.WriteLine($"TSVIZ_Monitor__Security__ApiKeys__{i}__Hash={hash}");
            return 0;
        }));
        return new Command("keys", "API keys for the HTTP endpoints (docs/security.md).") { create };
    }

    /// <summary>A name with spaces or shell characters is single-quoted, so the line can be pasted into a shell or an env file.</summary>
    private static string Quote(string value) => value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@')
        ? value
        : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
