using System.Text.Json;

namespace TSViz.Monitor.Tests.Live;

/// <summary>
/// The runtime settings the monitor's executable is built with (TSViz.Monitor.runtimeconfig.json, copied beside the
/// tests): measured choices for two cores shared with the broker (docs/live-monitor.md, "10. CPU shared with the broker").
/// </summary>
public sealed class RuntimeConfigurationTests
{
    [Fact]
    public void MonitorExecutable_BuiltWithoutThreadPoolSpinningAndWithWorkstationGc()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "TSViz.Monitor.runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var properties = document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
    }
}
