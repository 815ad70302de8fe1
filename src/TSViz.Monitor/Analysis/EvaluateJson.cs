using System.Text.Json.Serialization;

namespace TSViz.Monitor.Analysis;

/// <summary>One cell of the evaluation table: a method's value of a metric (metrics that do not apply are left out).</summary>
internal sealed record EvaluationRowJson(string Method, string Metric, double Value);

/// <summary>A method's mean deletion or insertion curve.</summary>
internal sealed record EvaluationCurveJson(string Method, string Mode, IReadOnlyList<double> Fractions, IReadOnlyList<double> Values, double Area);

/// <summary>The perturbation settings the metrics used.</summary>
internal sealed record EvaluationSettingsJson(
    int RandomOrders,
    double InfidelitySigma,
    int InfidelitySamples,
    double SensitivityRadius,
    int SensitivitySamples,
    int Seed,
    string Baseline,
    string InfidelityPerturbation,
    string SensitivityPerturbation);

/// <summary>What `evaluate` writes.</summary>
internal sealed record EvaluationJson(
    string Model,
    string ModelVersion,
    string Data,
    int Windows,
    string Explained,
    string Orientation,
    EvaluationSettingsJson Settings,
    IReadOnlyList<EvaluationRowJson> Rows,
    IReadOnlyList<EvaluationCurveJson> Curves);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EvaluationJson))]
internal sealed partial class EvaluateJsonContext : JsonSerializerContext;
