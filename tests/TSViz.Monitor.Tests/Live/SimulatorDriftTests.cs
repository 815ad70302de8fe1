using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Tests.Live;

/// <summary>The simulator's planted slow changes: parsed from their text, growing in over their ramp, then staying.</summary>
public sealed class SimulatorDriftTests
{
    [Theory]
    [InlineData("m2:level:pressure=0.5@600", "m2", "level", "pressure", 0.5, 600, 0)]
    [InlineData("line1/m1:ripple:torque=0.3@600+3600", "line1/m1", "ripple", "torque", 0.3, 600, 3600)]
    [InlineData("m3:level:temperature=-2.5e0@0", "m3", "level", "temperature", -2.5, 0, 0)]
    public void TryParse_Valid(string text, string machine, string kind, string channel, double amount, double at, double ramp)
    {
        Assert.True(SimulatorDrift.TryParse(text, out var drift));
        Assert.Equal(new SimulatorDrift(machine, kind, channel, amount, at, ramp), drift);
    }

    [Theory]
    [InlineData("m2:wobble:pressure=1@5")]
    [InlineData("m2:level:humidity=1@5")]
    [InlineData("m2:level:pressure@5")]
    [InlineData("m2:level:pressure=1")]
    [InlineData("m2:level:pressure=1@-5")]
    [InlineData("level:pressure=1@5")]
    [InlineData("")]
    public void TryParse_Invalid(string text) => Assert.False(SimulatorDrift.TryParse(text, out _));

    [Fact]
    public void Offset_LevelGrowsOverItsRampThenStays_RippleHasAPeriodOfThreeSamples()
    {
        var level = new SimulatorDrift("m1", "level", "pressure", 2, 100, 50);
        Assert.Equal(0, level.Offset(99.9, 0));
        Assert.Equal(0, level.Offset(100, 0));
        Assert.Equal(1, level.Offset(125, 0), 12);
        Assert.Equal(2, level.Offset(150, 7), 12);
        Assert.Equal(2, level.Offset(10_000, 7), 12);
        var step = new SimulatorDrift("m1", "level", "pressure", 2, 100, 0);
        Assert.Equal(2, step.Offset(100, 0));

        var ripple = new SimulatorDrift("m1", "ripple", "torque", 0.3, 0, 0);
        var values = Enumerable.Range(0, 9).Select(n => ripple.Offset(1, n)).ToArray();
        for (int n = 3; n < 9; n++)
        {
            Assert.Equal(values[n - 3], values[n], 12);
        }

        Assert.Equal(0, values.Take(3).Sum(), 12); // a ripple, not an offset
        Assert.All(values, v => Assert.InRange(Math.Abs(v), 0, 0.3));
        Assert.True(values.Max() - values.Min() > 0.4);
    }
}
