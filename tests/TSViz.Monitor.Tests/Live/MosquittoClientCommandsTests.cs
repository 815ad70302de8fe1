namespace TSViz.Monitor.Tests.Live;

/// <summary>How the MQTT commands of the README and docs/ are found (the commands themselves run in <see cref="MosquittoClientsTests"/>).</summary>
public sealed class MosquittoClientCommandsTests
{
    [Fact]
    public void Extract_CodeBlockLinesAndInlineSpans_EveryCommandOnce()
    {
        const string Markdown = """
            Watch with `mosquitto_sub -h 127.0.0.1 -t 'tsviz/v1/#' -v` or `mosquitto_sub -V mqttv5 -h 127.0.0.1
            -t 'tsviz/v1/#' -v`; the `mosquitto_sub` tool, `curl -s 127.0.0.1:8080/health`.

            ```sh
            apt-get install mosquitto-clients
              mosquitto_pub -h 127.0.0.1 -t plant/line1/m9/telemetry -m '{"pressure": "high"}'
            mosquitto_sub -h 127.0.0.1 -t 'tsviz/v1/#' -v
            ```

            Again: `mosquitto_pub -h 127.0.0.1 -t a -m b`.
            """;

        Assert.Equal(
            [
                """mosquitto_pub -h 127.0.0.1 -t plant/line1/m9/telemetry -m '{"pressure": "high"}'""",
                "mosquitto_sub -h 127.0.0.1 -t 'tsviz/v1/#' -v",
                "mosquitto_sub -V mqttv5 -h 127.0.0.1 -t 'tsviz/v1/#' -v",
                "mosquitto_pub -h 127.0.0.1 -t a -m b",
            ],
            MosquittoClientCommands.Extract(Markdown));
    }

    [Fact]
    public void Extract_NoCommand_Empty() => Assert.Empty(MosquittoClientCommands.Extract("`mosquitto_sub` and `mosquitto_pub`, `apt-get install mosquitto-clients`"));

    [Theory]
    [InlineData("tsviz/v1/m1/explanation {\"id\":\"m1:1\",\"score\":0.1,\"saliency\":[[0.5]]}", true)]
    [InlineData("{\"id\":\"m1:1\",\"score\":0.1,\"saliency\":[[0.5]]}", true)]
    [InlineData("tsviz/v1/m1/alert {\"machine\":\"m1\",\"status\":\"open\"}", false)]
    [InlineData("tsviz/v1/m1/explanation {\"score\":", false)]
    [InlineData("Connection error: Connection Refused: identifier rejected.", false)]
    public void IsExplanationLine_SubscriberOutput_OnlyAnExplanation(string line, bool expected)
        => Assert.Equal(expected, MosquittoClientCommands.IsExplanationLine(line));
}
