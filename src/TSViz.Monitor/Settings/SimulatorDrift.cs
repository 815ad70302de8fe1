using System.Globalization;
using System.Text.RegularExpressions;

namespace TSViz.Monitor.Settings;

/// <summary>
/// A slow change in how a simulated machine behaves, planted on command (Simulator:Drift, simulate --drift):
/// <c>machine:level:channel=amount@seconds[+ramp]</c> shifts the channel's operating point by amount (sensor units);
/// <c>machine:ripple:channel=amount@seconds[+ramp]</c> adds a ripple of that amplitude with a period of three samples
/// (the sensor's reading chatters while its level and spread hardly change). Either grows linearly from 0 at
/// <c>seconds</c> to its full amount <c>ramp</c> seconds later (at once without a ramp) and stays.
/// </summary>
public sealed partial record SimulatorDrift(string Machine, string Kind, string Channel, double Amount, double AtSeconds, double RampSeconds)
{
    /// <summary>The kinds of change.</summary>
    public static readonly string[] Kinds = ["level", "ripple"];

    /// <summary>The ripple's period in samples.</summary>
    public const int RipplePeriod = 3;

    public static bool TryParse(string text, out SimulatorDrift? drift)
    {
        drift = null;
        var match = Pattern().Match(text ?? string.Empty);
        if (!match.Success)
        {
            return false;
        }

        double amount = double.Parse(match.Groups["amount"].Value, CultureInfo.InvariantCulture);
        double at = double.Parse(match.Groups["at"].Value, CultureInfo.InvariantCulture);
        double ramp = match.Groups["ramp"].Success ? double.Parse(match.Groups["ramp"].Value, CultureInfo.InvariantCulture) : 0;
        if (!double.IsFinite(amount) || !double.IsFinite(at) || !double.IsFinite(ramp))
        {
            return false;
        }

        drift = new SimulatorDrift(match.Groups["machine"].Value, match.Groups["kind"].Value, match.Groups["channel"].Value, amount, at, ramp);
        return true;
    }

    /// <summary>How much of the change is in effect <paramref name="elapsedSeconds"/> after the simulation started (0-1).</summary>
    public double Extent(double elapsedSeconds)
        => elapsedSeconds < AtSeconds ? 0 : RampSeconds <= 0 ? 1 : Math.Min(1, (elapsedSeconds - AtSeconds) / RampSeconds);

    /// <summary>What the change adds to the channel's value at sample <paramref name="sample"/>.</summary>
    public double Offset(double elapsedSeconds, long sample)
    {
        double extent = Extent(elapsedSeconds);
        return extent == 0 ? 0 : Kind == "level" ? extent * Amount : extent * Amount * Math.Sin((2 * Math.PI * (sample % RipplePeriod) / RipplePeriod) + 0.3);
    }

    [GeneratedRegex(@"^(?<machine>[^:@=]+):(?<kind>level|ripple):(?<channel>pressure|temperature|torque)=(?<amount>[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)@(?<at>[0-9]*\.?[0-9]+)(?:\+(?<ramp>[0-9]*\.?[0-9]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
