namespace TSViz.Monitor.Settings;

/// <summary>An anomaly to inject on command.</summary>
public sealed record SimulatorInjection(string Machine, string Channel, double AtSeconds)
{
    public static bool TryParse(string text, out SimulatorInjection? injection)
    {
        injection = null;
        var at = text?.Split('@') ?? [];
        var parts = at.Length == 2 ? at[0].Split(':') : [];
        if (parts.Length != 2 || parts[1] is not ("pressure" or "temperature" or "torque")
            || !double.TryParse(at[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds) || seconds < 0)
        {
            return false;
        }

        injection = new SimulatorInjection(parts[0], parts[1], seconds);
        return true;
    }
}
