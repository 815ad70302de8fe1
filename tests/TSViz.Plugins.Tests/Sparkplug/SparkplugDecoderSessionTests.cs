using Microsoft.Extensions.Time.Testing;
using TSViz.Plugins.Ingest;
using TSViz.Plugins.Sparkplug;
using static TSViz.Plugins.Tests.Sparkplug.TestSparkplug;

namespace TSViz.Plugins.Tests.Sparkplug;

/// <summary>Births, deaths, seq and rebirth requests.</summary>
public sealed class SparkplugDecoderSessionTests
{
    private static SparkplugMetric Pressure(double value) => SparkplugMetric.Double(null, value) with { Alias = 1, Timestamp = Now.AddSeconds(-1) };

    [Fact]
    public void Decode_DataBeforeTheDeviceBirth_IsNoBirthWithARebirthRequest()
    {
        var decoder = Decoder();
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth());
        var result = decoder.Send(SparkplugMessageType.DData, Data(1, Pressure(6)));

        Assert.Equal(RejectionReason.SparkplugNoBirth, result.Reason);
        Assert.Equal("DDATA of 'line1/gw1/press7' before its DBIRTH", result.Detail);
        AssertRebirthRequest(result);
        Assert.Equal(1, decoder.RebirthRequests);
    }

    [Theory]
    [InlineData(SparkplugMessageType.NData)]
    [InlineData(SparkplugMessageType.DData)]
    [InlineData(SparkplugMessageType.DBirth)]
    public void Decode_BeforeTheNodeBirth_IsNoBirthWithARebirthRequest(SparkplugMessageType type)
    {
        var result = Decoder().Send(type, type == SparkplugMessageType.DBirth ? DeviceBirth() : Data(1, Pressure(6)));
        Assert.Equal(RejectionReason.SparkplugNoBirth, result.Reason);
        Assert.Contains("before the NBIRTH of its edge node 'line1/gw1'", result.Detail, StringComparison.Ordinal);
        AssertRebirthRequest(result);
    }

    [Fact]
    public void Decode_UnknownAlias_IsNoBirthWithARebirthRequest()
    {
        var result = Born().Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.Double(null, 1) with { Alias = 77, Timestamp = Now }));
        Assert.Equal(RejectionReason.SparkplugNoBirth, result.Reason);
        Assert.Equal("metric alias 77 was not declared in the birth of 'line1/gw1/press7'", result.Detail);
        AssertRebirthRequest(result);
    }

    [Fact]
    public void Decode_ManyMessagesWithoutBirth_OneRebirthRequestPerInterval()
    {
        var time = new FakeTimeProvider(Now);
        var decoder = Decoder(time);
        var first = decoder.Send(SparkplugMessageType.DData, Data(1, Pressure(6)));
        time.Advance(TimeSpan.FromSeconds(4.9));
        var second = decoder.Send(SparkplugMessageType.DData, Data(2, Pressure(6)));
        time.Advance(TimeSpan.FromSeconds(0.1));
        var third = decoder.Send(SparkplugMessageType.DData, Data(3, Pressure(6)));

        AssertRebirthRequest(first);
        Assert.Equal(RejectionReason.SparkplugNoBirth, second.Reason);
        Assert.Empty(second.Commands);
        AssertRebirthRequest(third);
        Assert.Equal(2, decoder.RebirthRequests);
    }

    [Fact]
    public void Decode_RebirthAnswered_DataIsReadAgain()
    {
        var decoder = Decoder();
        AssertRebirthRequest(decoder.Send(SparkplugMessageType.DData, Data(9, Pressure(6))));
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth());
        decoder.Send(SparkplugMessageType.DBirth, DeviceBirth());
        var result = decoder.Send(SparkplugMessageType.DData, Data(2, Pressure(6)));

        Assert.Equal([6f, 80f, 12f], Assert.Single(result.Samples).Values);
        Assert.Equal(1, decoder.EdgeNodes);
    }

    [Fact]
    public void Decode_SeqGap_IsCountedAndTheDataStillRead()
    {
        var decoder = Born();
        var result = decoder.Send(SparkplugMessageType.DData, Data(5, Pressure(6)));

        Assert.Single(result.Samples);
        Assert.Empty(result.Commands);
        Assert.Equal(1, decoder.SequenceGaps);

        // The seq that came is the new reference: the next one follows it.
        decoder.Send(SparkplugMessageType.DData, Data(6, Pressure(7) with { Timestamp = Now }));
        Assert.Equal(1, decoder.SequenceGaps);
    }

    [Fact]
    public void Decode_SeqGapWithRebirthOnSequenceGap_AsksForARebirth()
    {
        var decoder = Born(configure: s => s with { RebirthOnSequenceGap = true });
        var result = decoder.Send(SparkplugMessageType.DData, Data(4, Pressure(6)));

        Assert.Single(result.Samples);
        AssertRebirthRequest(result);
        Assert.Equal(1, decoder.SequenceGaps);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(256UL)]
    [InlineData(1UL)] // a repeat of the DBIRTH's
    public void Decode_SeqMissingOutOfRangeOrRepeated_IsAGap(ulong? seq)
    {
        var decoder = Born();
        decoder.Send(SparkplugMessageType.DData, Data(0, Pressure(6)) with { Seq = seq });
        Assert.Equal(1, decoder.SequenceGaps);
    }

    [Fact]
    public void Decode_SeqThroughAWholeCycle_Wraps255To0WithoutAGap()
    {
        var decoder = Born();
        for (int i = 0; i < 300; i++)
        {
            ulong seq = (ulong)((2 + i) % 256);
            var result = decoder.Send(SparkplugMessageType.DData, Data(seq, SparkplugMetric.String(null, "running") with { Alias = 4, Timestamp = Now }));
            Assert.False(result.IsRejected, result.Detail);
        }

        Assert.Equal(0, decoder.SequenceGaps);
    }

    [Fact]
    public void Decode_NodeRebirth_RestartsSeqAndForgetsTheDevices()
    {
        var decoder = Born();
        decoder.Send(SparkplugMessageType.DData, Data(2, Pressure(6)));
        var birth = decoder.Send(SparkplugMessageType.NBirth, NodeBirth());
        var data = decoder.Send(SparkplugMessageType.DData, Data(1, Pressure(7)));

        Assert.Empty(birth.Resets);
        Assert.Equal(RejectionReason.SparkplugNoBirth, data.Reason);
        Assert.Equal(0, decoder.SequenceGaps);
    }

    [Fact]
    public void Decode_DeviceDeath_ResetsTheDeviceAndItsDataNeedsABirthAgain()
    {
        var decoder = Born();
        var death = decoder.Send(SparkplugMessageType.DDeath, DeviceDeath(2));
        var data = decoder.Send(SparkplugMessageType.DData, Data(3, Pressure(6)));

        Assert.False(death.IsRejected);
        Assert.Equal([new MachineReset(DeviceMachine, "sparkplug_ddeath")], death.Resets);
        Assert.Equal(RejectionReason.SparkplugNoBirth, data.Reason);
        Assert.Equal(0, decoder.SequenceGaps);
    }

    [Fact]
    public void Decode_NodeDeathWithTheBirthsBdSeq_ResetsTheNodeAndEveryDevice()
    {
        var decoder = Decoder();
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth(3, SparkplugMetric.Double("pressure", 1), SparkplugMetric.Double("temperature", 2), SparkplugMetric.Double("torque", 3)));
        decoder.Send(SparkplugMessageType.DBirth, DeviceBirth());
        var death = decoder.Send(SparkplugMessageType.NDeath, NodeDeath(3));

        Assert.Equal([new MachineReset(NodeMachine, "sparkplug_ndeath"), new MachineReset(DeviceMachine, "sparkplug_ndeath")], death.Resets);
        Assert.Equal(0, decoder.EdgeNodes);
        Assert.Equal(RejectionReason.SparkplugNoBirth, decoder.Send(SparkplugMessageType.DData, Data(2, Pressure(6))).Reason);
    }

    [Fact]
    public void Decode_NodeDeathOfAnEarlierSession_IsIgnored()
    {
        // The will of the previous connection (bdSeq 2) arrives after the new session's NBIRTH (bdSeq 3).
        var decoder = Decoder();
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth(3));
        decoder.Send(SparkplugMessageType.DBirth, DeviceBirth());
        var death = decoder.Send(SparkplugMessageType.NDeath, NodeDeath(2));
        var data = decoder.Send(SparkplugMessageType.DData, Data(2, Pressure(6)));

        Assert.False(death.IsRejected);
        Assert.Empty(death.Resets);
        Assert.Single(data.Samples);
    }

    [Fact]
    public void Decode_DeathOfWhatWasNeverBorn_IsIgnored()
    {
        var decoder = Decoder();
        Assert.Equal(DecodeResult.Empty, decoder.Send(SparkplugMessageType.NDeath, NodeDeath(0)));
        Assert.Equal(DecodeResult.Empty, decoder.Send(SparkplugMessageType.DDeath, DeviceDeath(0)));
    }

    [Fact]
    public void Decode_NodeBirthWithoutBdSeq_AnNDeathWithoutOneEndsIt()
    {
        var decoder = Decoder();
        var birth = NodeBirth();
        decoder.Send(SparkplugMessageType.NBirth, birth with { Metrics = [.. birth.Metrics.Skip(1)] });
        decoder.Send(SparkplugMessageType.DBirth, DeviceBirth());
        var withBdSeq = decoder.Send(SparkplugMessageType.NDeath, NodeDeath(0));
        var without = decoder.Send(SparkplugMessageType.NDeath, new SparkplugPayload { Timestamp = Now });

        Assert.Empty(withBdSeq.Resets);
        Assert.Equal(DeviceMachine, Assert.Single(without.Resets).Machine);
    }
}
