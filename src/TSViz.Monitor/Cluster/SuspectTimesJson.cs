using System.Globalization;
using System.Text.Json;
using Orleans.Runtime;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// A membership row's suspicion votes as the JSON of column suspect_times: an array of
/// <c>{"silo": "&lt;SiloAddress parsable string&gt;", "at": "&lt;UTC time, round-trip ISO 8601&gt;"}</c>, in vote order.
/// The times keep all seven fractional digits; PostgreSQL reads them (rounded to microseconds) when it cleans up.
/// </summary>
internal static class SuspectTimesJson
{
    /// <summary>The votes as JSON.</summary>
    public static string Write(IEnumerable<Tuple<SiloAddress, DateTime>> votes)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var (silo, at) in votes)
            {
                writer.WriteStartObject();
                writer.WriteString("silo", silo.ToParsableString());
                writer.WriteString("at", DateTime.SpecifyKind(at.Kind == DateTimeKind.Local ? at.ToUniversalTime() : at, DateTimeKind.Utc).ToString("O", CultureInfo.InvariantCulture));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The votes of <paramref name="json"/> (as <see cref="Write"/> makes it).</summary>
    public static List<Tuple<SiloAddress, DateTime>> Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        var votes = new List<Tuple<SiloAddress, DateTime>>();
        foreach (var vote in document.RootElement.EnumerateArray())
        {
            var silo = SiloAddress.FromParsableString(vote.GetProperty("silo").GetString()!);
            var at = DateTime.Parse(vote.GetProperty("at").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind).ToUniversalTime();
            votes.Add(Tuple.Create(silo, at));
        }

        return votes;
    }
}
