using System.Text;
using System.Text.RegularExpressions;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Prometheus;

/// <summary>The shipped Prometheus files (config/prometheus) and the forms of their rule expressions the test evaluates.</summary>
internal static partial class RuleFiles
{
    public static string Folder => Path.Combine(RepositoryPaths.Root, "config", "prometheus");

    public static string ConfigPath => Path.Combine(Folder, "prometheus.yml");

    public static string RulesPath => Path.Combine(Folder, "tsviz-rules.yml");

    /// <summary>The names of the rules the file declares ("- alert: X" and "- record: X" lines), in file order.</summary>
    public static IReadOnlyList<string> DeclaredRuleNames() =>
        File.ReadLines(RulesPath).Select(l => RuleLine().Match(l)).Where(m => m.Success).Select(m => m.Groups["name"].Value).ToList();

    /// <summary>
    /// The shipped configuration as the test runs it: the monitor's port instead of 8080, 1 s scrape and evaluation
    /// intervals instead of 15 s, the rule file by its absolute path. Each replacement must apply, so a change to the
    /// shipped file that the test would silently ignore fails it instead.
    /// </summary>
    public static string ConfigurationForTest(int monitorPort)
    {
        string text = File.ReadAllText(ConfigPath);
        text = Replace(text, "127.0.0.1:8080", $"127.0.0.1:{monitorPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        text = Replace(text, "scrape_interval: 15s", "scrape_interval: 1s");
        text = Replace(text, "evaluation_interval: 15s", "evaluation_interval: 1s");
        return Replace(text, "- tsviz-rules.yml", $"- {RulesPath}");
    }

    /// <summary>
    /// An alerting condition with "bool" after each comparison outside label matchers: "x > 2" keeps only the series
    /// above 2 (often none, rightly), "x > bool 2" gives 0 or 1 for every series x has. An empty result of the bool
    /// form therefore means the series the rule watches do not exist (a misspelt metric, label or job).
    /// </summary>
    public static string WithBoolComparisons(string expression)
    {
        var result = new StringBuilder(expression.Length + 16);
        int braces = 0;
        char quote = '\0';
        for (int i = 0; i < expression.Length; i++)
        {
            char c = expression[i];
            result.Append(c);
            if (quote != '\0')
            {
                if (c == '\\' && i + 1 < expression.Length)
                {
                    result.Append(expression[++i]);
                }
                else if (c == quote)
                {
                    quote = '\0';
                }

                continue;
            }

            switch (c)
            {
                case '"' or '\'' or '`':
                    quote = c;
                    continue;
                case '{':
                    braces++;
                    continue;
                case '}':
                    braces--;
                    continue;
            }

            if (braces > 0 || c is not ('=' or '!' or '>' or '<'))
            {
                continue;
            }

            char next = i + 1 < expression.Length ? expression[i + 1] : '\0';
            if (c is '=' or '!' && next != '=')
            {
                continue; // "=~" and "!~" only occur in matchers; "=" alone is not an operator
            }

            if (next == '=')
            {
                result.Append(next);
                i++;
            }

            if (!expression.AsSpan(i + 1).TrimStart().StartsWith("bool", StringComparison.Ordinal))
            {
                result.Append(" bool");
            }
        }

        return result.ToString();
    }

    private static string Replace(string text, string old, string replacement) =>
        text.Contains(old, StringComparison.Ordinal)
            ? text.Replace(old, replacement, StringComparison.Ordinal)
            : throw new InvalidOperationException($"{ConfigPath} no longer contains '{old}'; update the Prometheus tests.");

    [GeneratedRegex(@"^\s*-\s*(alert|record):\s*(?<name>\S+)\s*$")]
    private static partial Regex RuleLine();
}
