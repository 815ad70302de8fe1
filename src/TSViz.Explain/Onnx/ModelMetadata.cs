using System.Globalization;
using TSViz.Explain.Data;
using TSViz.Explain.Models;

namespace TSViz.Explain.Onnx;

/// <summary>
/// What a deployed model declares about itself in the ONNX file's metadata_props; the monitor reads it to
/// know the channels, the window, the preprocessing and the decision threshold.
/// </summary>
/// <param name="Name">The model's name (tsviz.model_name), e.g. anomaly-cnn.</param>
/// <param name="Version">The model's version (tsviz.model_version); with the name it identifies results.</param>
/// <param name="Channels">Input channel names in input order (tsviz.channels).</param>
/// <param name="WindowLength">Steps per window (tsviz.window_length).</param>
/// <param name="Preprocessing">What is done to a received window before the model sees it (tsviz.preprocessing, one of <see cref="WindowPreprocessing.Known"/>).</param>
/// <param name="OutputKind">Whether the output is a probability or a value (tsviz.output_kind).</param>
/// <param name="DecisionThreshold">Scores at or above it are anomalies (tsviz.decision_threshold); null when the model declares none.</param>
/// <param name="Extra">Every other metadata property of the file, kept as written.</param>
public sealed record ModelMetadata(
    string Name,
    string Version,
    IReadOnlyList<string> Channels,
    int WindowLength,
    string Preprocessing,
    OutputKind OutputKind,
    double? DecisionThreshold,
    IReadOnlyDictionary<string, string> Extra)
{
    /// <summary>metadata_props key of <see cref="Name"/>.</summary>
    public const string NameKey = "tsviz.model_name";
    /// <summary>metadata_props key of <see cref="Version"/>.</summary>
    public const string VersionKey = "tsviz.model_version";
    /// <summary>metadata_props key of <see cref="Channels"/> (comma-separated).</summary>
    public const string ChannelsKey = "tsviz.channels";
    /// <summary>metadata_props key of <see cref="WindowLength"/>.</summary>
    public const string WindowLengthKey = "tsviz.window_length";
    /// <summary>metadata_props key of <see cref="Preprocessing"/>.</summary>
    public const string PreprocessingKey = "tsviz.preprocessing";
    /// <summary>metadata_props key of <see cref="OutputKind"/> ("probability" or "value").</summary>
    public const string OutputKindKey = "tsviz.output_kind";
    /// <summary>metadata_props key of <see cref="DecisionThreshold"/> (optional).</summary>
    public const string ThresholdKey = "tsviz.decision_threshold";

    /// <summary>The required keys with what each must hold (used in error messages).</summary>
    public static readonly IReadOnlyList<(string Key, string Meaning)> Required =
    [
        (NameKey, "the model's name, e.g. anomaly-cnn"),
        (VersionKey, "the model's version, e.g. 1.0.0"),
        (ChannelsKey, "comma-separated input channel names in input order, e.g. pressure,temperature,torque"),
        (WindowLengthKey, "the number of time steps per window, e.g. 50"),
        (PreprocessingKey, $"one of {string.Join(", ", WindowPreprocessing.Known)}"),
        (OutputKindKey, "probability or value"),
    ];

    /// <summary>Metadata as key/value pairs, ready for metadata_props.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToProperties()
    {
        var props = new List<KeyValuePair<string, string>>
        {
            new(NameKey, Name),
            new(VersionKey, Version),
            new(ChannelsKey, string.Join(',', Channels)),
            new(WindowLengthKey, WindowLength.ToString(CultureInfo.InvariantCulture)),
            new(PreprocessingKey, Preprocessing),
            new(OutputKindKey, OutputKind == OutputKind.Probability ? "probability" : "value"),
        };
        if (DecisionThreshold is double threshold)
        {
            props.Add(new(ThresholdKey, threshold.ToString("R", CultureInfo.InvariantCulture)));
        }

        props.AddRange(Extra.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        return props;
    }

    /// <summary>
    /// Reads and validates the metadata. Every problem is collected, so one error message tells the user
    /// everything that has to change.
    /// </summary>
    /// <exception cref="ModelFileException">A key is missing or holds a value that cannot be used.</exception>
    public static ModelMetadata Parse(IReadOnlyDictionary<string, string> props, string source)
    {
        ArgumentNullException.ThrowIfNull(props);
        var problems = new List<string>();
        foreach (var (key, meaning) in Required)
        {
            if (!props.TryGetValue(key, out var value) || string.IsNullOrWhiteSpace(value))
            {
                problems.Add($"missing '{key}' ({meaning})");
            }
        }

        string Get(string key) => props.TryGetValue(key, out var v) ? v.Trim() : string.Empty;

        var channels = Get(ChannelsKey).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (props.ContainsKey(ChannelsKey) && channels.Length == 0)
        {
            problems.Add($"'{ChannelsKey}' names no channel");
        }

        if (channels.Distinct(StringComparer.Ordinal).Count() != channels.Length)
        {
            problems.Add($"'{ChannelsKey}' names a channel twice: '{Get(ChannelsKey)}'");
        }

        int windowLength = 0;
        if (props.ContainsKey(WindowLengthKey)
            && (!int.TryParse(Get(WindowLengthKey), NumberStyles.None, CultureInfo.InvariantCulture, out windowLength) || windowLength < 2))
        {
            problems.Add($"'{WindowLengthKey}' must be an integer of at least 2, got '{Get(WindowLengthKey)}'");
        }

        string preprocessing = Get(PreprocessingKey);
        if (props.ContainsKey(PreprocessingKey) && !WindowPreprocessing.Known.Contains(preprocessing))
        {
            problems.Add($"'{PreprocessingKey}' must be one of {string.Join(", ", WindowPreprocessing.Known)}, got '{preprocessing}'");
        }

        var outputKind = OutputKind.Value;
        string kind = Get(OutputKindKey);
        if (kind == "probability")
        {
            outputKind = OutputKind.Probability;
        }
        else if (props.ContainsKey(OutputKindKey) && kind != "value")
        {
            problems.Add($"'{OutputKindKey}' must be probability or value, got '{kind}'");
        }

        double? threshold = null;
        if (props.ContainsKey(ThresholdKey))
        {
            if (double.TryParse(Get(ThresholdKey), NumberStyles.Float, CultureInfo.InvariantCulture, out double t) && double.IsFinite(t))
            {
                threshold = t;
                if (outputKind == OutputKind.Probability && (t <= 0 || t >= 1))
                {
                    problems.Add($"'{ThresholdKey}' of a probability model must lie in (0, 1), got {t}");
                }
            }
            else
            {
                problems.Add($"'{ThresholdKey}' must be a number, got '{Get(ThresholdKey)}'");
            }
        }
        else if (outputKind == OutputKind.Probability)
        {
            problems.Add($"missing '{ThresholdKey}' (the decision threshold of a probability model, e.g. 0.5)");
        }

        if (problems.Count > 0)
        {
            throw new ModelFileException(
                $"Model '{source}' lacks the metadata the monitor needs: {string.Join("; ", problems)}. "
                + "Re-export the model with the `export` verb, or add these keys to the ONNX file's metadata_props.");
        }

        var known = new HashSet<string>(Required.Select(r => r.Key)) { ThresholdKey };
        var extra = props.Where(kv => !known.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        return new ModelMetadata(Get(NameKey), Get(VersionKey), channels, windowLength, preprocessing, outputKind, threshold, extra);
    }
}
