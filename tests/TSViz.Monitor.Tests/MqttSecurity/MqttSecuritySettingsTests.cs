using System.Text;
using TSViz.Monitor.Hosting;
using TSViz.Monitor.Live;
using TSViz.Monitor.MqttSecurity;
using TSViz.Monitor.Settings;
using TSViz.Monitor.Tests.Cli;

namespace TSViz.Monitor.Tests.MqttSecurity;

/// <summary>The security settings' validation, the password hash and the mqtt-user verb.</summary>
public sealed class MqttSecuritySettingsTests
{
    private static readonly string Hash = PasswordHash.Create("a-password-1234", PasswordHash.MinimumIterations);

    [Fact]
    public void Validate_EmbeddedBrokerBeyondLoopbackWithoutUsers_NamesUsers()
    {
        var failure = Failures(new MqttSettings { Host = "0.0.0.0" });
        Assert.Contains("Monitor:Mqtt:Users", failure, StringComparison.Ordinal);
        Assert.Empty(Failures(new MqttSettings { Host = "0.0.0.0", Users = [new() { Username = "gw", Role = "gateway", PasswordHash = Hash }] }));
        Assert.Empty(Failures(new MqttSettings()));
    }

    [Fact]
    public void Validate_PlainPasswordToARemoteBroker_RefusedUnlessAllowed()
    {
        MqttSettings Remote(bool allow, bool tls = false, string host = "10.1.2.3") => new() { EmbeddedBroker = false, Host = host, Username = "tsviz-monitor", Password = "x", UseTls = tls, AllowPlainPassword = allow };
        Assert.Contains("Monitor:Mqtt:AllowPlainPassword", Failures(Remote(false)), StringComparison.Ordinal);
        Assert.Empty(Failures(Remote(true)));
        Assert.Empty(Failures(Remote(false, host: "127.0.0.1")));
        Assert.Empty(Failures(Remote(false, host: "localhost")));
    }

    [Theory]
    [InlineData("admin", "gw", "Monitor:Mqtt:Users:0:Role")]
    [InlineData("gateway", "gw", "Monitor:Mqtt:Users:0:PasswordHash", "pbkdf2-sha256$1000$AAAA$BBBB")]
    [InlineData("gateway", "tsviz-monitor", "Monitor:Mqtt:Users:0:Username")]
    [InlineData("gateway", "tsviz-monitor-simulator", "Monitor:Mqtt:Users:0:Username")]
    public void Validate_BadUser_NamesTheKey(string role, string username, string key, string? hash = null)
    {
        Assert.Contains(key, Failures(new MqttSettings { Users = [new() { Username = username, Role = role, PasswordHash = hash ?? Hash }] }), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DuplicateUsername_NamesTheSecondEntry()
    {
        var user = new MqttUserSettings { Username = "gw", Role = "gateway", PasswordHash = Hash };
        Assert.Contains("Monitor:Mqtt:Users:1:Username must be unique", Failures(new MqttSettings { Users = [user, user] }), StringComparison.Ordinal);
    }

    [Fact]
    public void PasswordHash_RoundTrip_VerifiesOnlyTheRightPassword()
    {
        string stored = PasswordHash.Create("correct horse");
        Assert.StartsWith("pbkdf2-sha256$210000$", stored, StringComparison.Ordinal);
        Assert.True(PasswordHash.Verify(Encoding.UTF8.GetBytes("correct horse"), stored));
        Assert.False(PasswordHash.Verify(Encoding.UTF8.GetBytes("correct horsf"), stored));
        Assert.NotEqual(stored, PasswordHash.Create("correct horse")); // a fresh salt each time
    }

    [Theory]
    [InlineData("plant/line1/m1/telemetry", "plant/+/+/telemetry", true)]
    [InlineData("plant/line1/m1/status", "plant/+/+/telemetry", false)]
    [InlineData("plant/line1/telemetry", "plant/+/+/telemetry", false)]
    [InlineData("plant/#", "plant/+/+/telemetry", false)]
    [InlineData("tsviz/v1", "tsviz/v1/#", true)]
    [InlineData("tsviz/v1/+/alert", "tsviz/v1/#", true)]
    [InlineData("tsviz/#", "tsviz/v1/#", false)]
    [InlineData("#", "tsviz/v1/#", false)]
    [InlineData("+/v1/m1/alert", "tsviz/v1/#", false)]
    public void TopicFilters_IsWithin(string filter, string allowed, bool expected) => Assert.Equal(expected, TopicFilters.IsWithin(filter, allowed));

    [Fact]
    public async Task MqttUserCreate_PrintsPasswordOnceAndAnEntryThatAuthenticates()
    {
        var (exit, output, error) = await VerbRunner.Run("mqtt-user", "create", "--name", "gateway-7", "--role", "gateway", "--index", "2");
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        string password = lines[1];
        string hash = lines.Single(l => l.StartsWith("TSVIZ_Monitor__Mqtt__Users__2__PasswordHash=", StringComparison.Ordinal)).Split('=', 2)[1].Trim('\'');
        Assert.Contains("TSVIZ_Monitor__Mqtt__Users__2__Role=gateway", output, StringComparison.Ordinal);
        Assert.Contains($"\"PasswordHash\": \"{hash}\"", output, StringComparison.Ordinal);
        Assert.True(password.Length >= 32);
        Assert.Single(lines, l => l.Contains(password, StringComparison.Ordinal));
        Assert.True(PasswordHash.Verify(Encoding.UTF8.GetBytes(password), hash));
        Assert.Empty(Failures(new MqttSettings { Host = "0.0.0.0", Users = [new() { Username = "gateway-7", Role = "gateway", PasswordHash = hash }] }));

        var (badExit, _, badError) = await VerbRunner.Run("mqtt-user", "create", "--name", "x", "--role", "admin");
        Assert.Equal(2, badExit);
        Assert.Contains("--role must be gateway or viewer", badError, StringComparison.Ordinal);
    }

    private static string Failures(MqttSettings mqtt)
    {
        var result = MonitorHost.ValidateOptions(new MonitorOptions { Mqtt = mqtt });
        return result.Failed ? result.FailureMessage : "";
    }
}
