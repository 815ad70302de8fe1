using System.Diagnostics;
using System.Text.Json;
using TSViz.Explain.Onnx;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Training;

public sealed class ShippedModelsTests
{
    public static TheoryData<string> Models => new() { "anomaly-cnn.onnx", "traffic-cnn.onnx" };

    [Theory]
    [MemberData(nameof(Models))]
    public void ShippedModel_PassesTheOnnxFullChecker(string file)
    {
        // Debian's python3-onnx is an independent implementation of the ONNX spec (the test script installs it).
        string path = Path.Combine(RepositoryPaths.Root, "models", file);
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList =
            {
                "-c",
                "import sys, onnx; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print('ok', m.ir_version, m.opset_import[0].version)",
                path,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"onnx checker failed for {file}: {error}");
        Assert.StartsWith("ok 8 17", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ShippedModel_DeclaresItsMetadataAndHasACardForThisFile(string file)
    {
        string path = Path.Combine(RepositoryPaths.Root, "models", file);
        var model = OnnxModelFile.Load(path);
        Assert.Equal(50, model.Metadata.WindowLength);
        Assert.False(string.IsNullOrEmpty(model.Metadata.Version));

        using var card = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(path, ".card.json")));
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
        Assert.Equal(sha, card.RootElement.GetProperty("sha256").GetString());
    }
}
