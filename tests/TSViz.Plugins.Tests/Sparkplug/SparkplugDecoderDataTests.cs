using Microsoft.Extensions.Time.Testing;
using TSViz.Plugins.Ingest;
using TSViz.Plugins.Sparkplug;
using static TSViz.Plugins.Tests.Sparkplug.TestSparkplug;

namespace TSViz.Plugins.Tests.Sparkplug;

/// <summary>Data messages to samples: aliases, names, timestamps, carried-forward channels, rejections.</summary>
public sealed class SparkplugDecoderDataTests
{
    private static readonly DateTimeOffset T1 = Now.AddSeconds(-2);
    private static readonly DateTimeOffset T2 = Now.AddSeconds(-1);

    [Fact]
    public void Decode_DeviceDataByAlias_OneSampleInChannelOrderStampedWithTheMetricsTime()
    {
        var decoder = Born();
        var result = decoder.Send(SparkplugMessageType.DData, Data(2,
            SparkplugMetric.Int32(null, 13) with { Alias = 3, Timestamp = T1 },
            SparkplugMetric.Double(null, 5.5) with { Alias = 1, Timestamp = T1 },
            SparkplugMetric.Float(null, 81.25f) with { Alias = 2, Timestamp = T1 }));

        Assert.False(result.IsRejected, result.Detail);
        var sample = Assert.Single(result.Samples);
        Assert.Equal(DeviceMachine, sample.Machine);
        Assert.Equal(T1, sample.Timestamp);
        Assert.Equal([5.5f, 81.25f, 13f], sample.Values);
        Assert.Empty(result.Resets);
        Assert.Empty(result.Commands);
    }

    [Fact]
    public void Decode_DataByNameWithoutDatatype_ReadsWithTheBirthsDatatype()
    {
        var decoder = Born();
        var result = decoder.Send(SparkplugMessageType.DData, Data(2,
            SparkplugMetric.Int32("torque", -4) with { DataType = null, Timestamp = T1 }));

        Assert.Equal([5f, 80f, -4f], Assert.Single(result.Samples).Values);
    }

    [Fact]
    public void Decode_OnlyChangedMetrics_CarriesTheOthersForwardFromTheBirthAndEarlierData()
    {
        // Report by exception: a metric absent from a data message is unchanged.
        var decoder = Born();
        var first = decoder.Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.Float(null, 90) with { Alias = 2, Timestamp = T1 }));
        var second = decoder.Send(SparkplugMessageType.DData, Data(3, SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = T2 }));

        Assert.Equal([5f, 90f, 12f], Assert.Single(first.Samples).Values);
        Assert.Equal([6f, 90f, 12f], Assert.Single(second.Samples).Values);
    }

    [Fact]
    public void Decode_SeveralTimestamps_OneSamplePerTimestampInTimeOrder()
    {
        var decoder = Born();
        var result = decoder.Send(SparkplugMessageType.DData, Data(2,
            SparkplugMetric.Double(null, 7) with { Alias = 1, Timestamp = T2 },
            SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = T1 },
            SparkplugMetric.Int32(null, 20) with { Alias = 3, Timestamp = T2 },
            SparkplugMetric.Float(null, 85) with { Alias = 2, Timestamp = T1 }));

        Assert.Equal([T1, T2], result.Samples.Select(s => s.Timestamp));
        Assert.Equal([6f, 85f, 12f], result.Samples[0].Values);
        Assert.Equal([7f, 85f, 20f], result.Samples[1].Values);
    }

    [Fact]
    public void Decode_MetricWithoutTimestamp_TakesThePayloads()
    {
        var decoder = Born();
        var payload = Data(2, SparkplugMetric.Double(null, 7) with { Alias = 1 }) with { Timestamp = T2 };
        Assert.Equal(T2, Assert.Single(decoder.Send(SparkplugMessageType.DData, payload).Samples).Timestamp);
    }

    [Fact]
    public void Decode_NoTimestampAnywhere_IsWrongType()
    {
        var decoder = Born();
        var result = decoder.Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.Double(null, 7) with { Alias = 1 }) with { Timestamp = null });
        Assert.Equal(RejectionReason.WrongType, result.Reason);
        Assert.Contains("no timestamp", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NodeData_IsTheNodesMachine()
    {
        var decoder = Decoder();
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth(0,
            SparkplugMetric.Double("pressure", 1) with { Alias = 10, Timestamp = Now },
            SparkplugMetric.Double("temperature", 2) with { Alias = 11, Timestamp = Now },
            SparkplugMetric.Double("torque", 3) with { Alias = 12, Timestamp = Now }));
        var result = decoder.Send(SparkplugMessageType.NData, Data(1, SparkplugMetric.Double(null, 4) with { Alias = 12, Timestamp = T1 }));

        var sample = Assert.Single(result.Samples);
        Assert.Equal(NodeMachine, sample.Machine);
        Assert.Equal([1f, 2f, 4f], sample.Values);
    }

    [Fact]
    public void Decode_ConfiguredMetricNames_MapMetricsToChannels()
    {
        var decoder = Decoder(configure: s => s with { MetricNames = new Dictionary<string, string> { ["torque"] = "Spindle/Torque" } });
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth());
        decoder.Send(SparkplugMessageType.DBirth, new SparkplugPayload
        {
            Timestamp = Now,
            Seq = 1,
            Metrics =
            [
                SparkplugMetric.Double("pressure", 5) with { Alias = 1 },
                SparkplugMetric.Double("temperature", 80) with { Alias = 2 },
                SparkplugMetric.Double("Spindle/Torque", 12) with { Alias = 3 },
                SparkplugMetric.Double("torque", 999) with { Alias = 4 },
            ],
        });

        var result = decoder.Send(SparkplugMessageType.DData, Data(2,
            SparkplugMetric.Double(null, 13) with { Alias = 3, Timestamp = T1 },
            SparkplugMetric.Double(null, 998) with { Alias = 4, Timestamp = T1 }));
        Assert.Equal([5f, 80f, 13f], Assert.Single(result.Samples).Values);
    }

    [Fact]
    public void Decode_DataOfNoChannel_IsAcceptedWithoutSamples()
    {
        var decoder = Born();
        var result = decoder.Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.String(null, "stopped") with { Alias = 4, Timestamp = T1 }));
        Assert.False(result.IsRejected);
        Assert.Empty(result.Samples);
    }

    [Fact]
    public void Decode_DeviceWhoseBirthNamesNoChannel_IsNotAMachine()
    {
        var decoder = Born();
        decoder.Decode("spBv1.0/line1/DBIRTH/gw1/valve2", SparkplugCodec.Encode(new SparkplugPayload
        {
            Timestamp = Now,
            Seq = 2,
            Metrics = [SparkplugMetric.Boolean("open", true) with { Alias = 50 }],
        }));
        var data = decoder.Decode("spBv1.0/line1/DDATA/gw1/valve2", SparkplugCodec.Encode(Data(3, SparkplugMetric.Boolean(null, false) with { Alias = 50, Timestamp = T1 })));
        var death = decoder.Decode("spBv1.0/line1/DDEATH/gw1/valve2", SparkplugCodec.Encode(DeviceDeath(4)));

        Assert.False(data.IsRejected);
        Assert.Empty(data.Samples);
        Assert.Empty(death.Resets);
    }

    [Fact]
    public void Decode_BirthDeclaringSomeChannels_DataIsMissingChannel()
    {
        var decoder = Decoder();
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth());
        decoder.Send(SparkplugMessageType.DBirth, new SparkplugPayload { Timestamp = Now, Seq = 1, Metrics = [SparkplugMetric.Double("pressure", 5) with { Alias = 1 }] });
        var result = decoder.Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = T1 }));

        Assert.Equal(RejectionReason.MissingChannel, result.Reason);
        Assert.Contains("declares no metric for channel 'temperature'", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_ChannelNullUntilDataGivesIt_IsMissingChannelThenSamples()
    {
        var decoder = Decoder();
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth());
        var birth = DeviceBirth();
        decoder.Send(SparkplugMessageType.DBirth, birth with { Metrics = [.. birth.Metrics.Select(m => m.Name == "torque" ? SparkplugMetric.Null("torque", SparkplugDataType.Int32) with { Alias = 3 } : m)] });

        var before = decoder.Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = T1 }));
        var given = decoder.Send(SparkplugMessageType.DData, Data(3, SparkplugMetric.Int32(null, 14) with { Alias = 3, Timestamp = T2 }));
        var nulled = decoder.Send(SparkplugMessageType.DData, Data(4, SparkplugMetric.Null(null, SparkplugDataType.Int32) with { Alias = 3, Timestamp = Now }));
        var after = decoder.Send(SparkplugMessageType.DData, Data(5, SparkplugMetric.Double(null, 7) with { Alias = 1, Timestamp = Now }));

        Assert.Equal(RejectionReason.MissingChannel, before.Reason);
        Assert.Contains("channel 'torque' has no value", before.Detail, StringComparison.Ordinal);
        Assert.Equal([6f, 80f, 14f], Assert.Single(given.Samples).Values);

        // An explicit null is remembered even though no sample can be made of it: the old value is not carried on.
        Assert.Equal(RejectionReason.MissingChannel, nulled.Reason);
        Assert.Equal(RejectionReason.MissingChannel, after.Reason);
    }

    [Fact]
    public void Decode_SameChannelTwiceAtOneTimestamp_IsDuplicateField()
    {
        var decoder = Born();
        var result = decoder.Send(SparkplugMessageType.DData, Data(2,
            SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = T1 },
            SparkplugMetric.Double("pressure", 7) with { Timestamp = T1 }));
        Assert.Equal(RejectionReason.DuplicateField, result.Reason);
    }

    [Fact]
    public void Decode_RejectedData_LeavesTheCarriedValuesAsTheyWere()
    {
        var decoder = Born();
        var bad = decoder.Send(SparkplugMessageType.DData, Data(2,
            SparkplugMetric.Double(null, 60) with { Alias = 1, Timestamp = T1 },
            SparkplugMetric.Double(null, double.PositiveInfinity) with { Alias = 1, Timestamp = T2 }));
        var good = decoder.Send(SparkplugMessageType.DData, Data(3, SparkplugMetric.Int32(null, 1) with { Alias = 3, Timestamp = Now }));

        Assert.Equal(RejectionReason.NonFiniteValue, bad.Reason);
        Assert.Equal([5f, 80f, 1f], Assert.Single(good.Samples).Values);
    }

    [Theory]
    [InlineData(1e300)]
    [InlineData(double.NaN)]
    public void Decode_ValueNoFloatHolds_IsNonFiniteValue(double value)
    {
        var result = Born().Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.Double(null, value) with { Alias = 1, Timestamp = T1 }));
        Assert.Equal(RejectionReason.NonFiniteValue, result.Reason);
    }

    [Fact]
    public void Decode_ValueNotANumber_IsWrongType()
    {
        var result = Born().Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.String(null, "high") with { Alias = 1, DataType = null, Timestamp = T1 }));
        Assert.Equal(RejectionReason.WrongType, result.Reason);
        Assert.Contains("channel 'pressure' is Double with string_value \"high\"", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_TimestampsFarFromTheClock_AreFutureOrAbsurd()
    {
        var decoder = Born();
        var future = decoder.Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = Now.AddSeconds(6) }));
        var past = decoder.Send(SparkplugMessageType.DData, Data(3, SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = Now.AddDays(-2) }));
        Assert.Equal(RejectionReason.FutureTimestamp, future.Reason);
        Assert.Equal(RejectionReason.AbsurdTimestamp, past.Reason);
    }

    [Fact]
    public void Decode_BirthWithAChannelOfTextDatatype_IsInvalidBirth()
    {
        var decoder = Decoder();
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth());
        var result = decoder.Send(SparkplugMessageType.DBirth, new SparkplugPayload { Timestamp = Now, Seq = 1, Metrics = [SparkplugMetric.String("torque", "12 Nm")] });
        Assert.Equal(RejectionReason.SparkplugInvalidBirth, result.Reason);
        Assert.Contains("channel 'torque' is declared String", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a metric without a name")]
    [InlineData("an alias given twice")]
    [InlineData("a name given twice")]
    public void Decode_BirthThatCannotBeUsed_IsInvalidBirthAndForgetsTheOldOne(string flaw)
    {
        var decoder = Born();
        SparkplugMetric[] metrics = flaw switch
        {
            "a metric without a name" => [SparkplugMetric.Double(null, 1) with { Alias = 9 }],
            "an alias given twice" => [SparkplugMetric.Double("pressure", 1) with { Alias = 9 }, SparkplugMetric.Double("x", 1) with { Alias = 9 }],
            _ => [SparkplugMetric.Double("pressure", 1), SparkplugMetric.Double("pressure", 2)],
        };

        var birth = decoder.Send(SparkplugMessageType.DBirth, new SparkplugPayload { Timestamp = Now, Seq = 2, Metrics = metrics });
        var data = decoder.Send(SparkplugMessageType.DData, Data(3, SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = T1 }));

        Assert.Equal(RejectionReason.SparkplugInvalidBirth, birth.Reason);
        Assert.Equal(RejectionReason.SparkplugNoBirth, data.Reason);
    }

    [Fact]
    public void Decode_NodeBirthWithoutSeq_IsInvalidBirth()
    {
        var result = Decoder().Send(SparkplugMessageType.NBirth, NodeBirth() with { Seq = null });
        Assert.Equal(RejectionReason.SparkplugInvalidBirth, result.Reason);
        Assert.Contains("no seq", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NotAPayload_IsMalformedPayload()
    {
        var result = Born().Decode(Topic(SparkplugMessageType.DData), new byte[] { 0x12, 0x40, 0x0A });
        Assert.Equal(RejectionReason.SparkplugMalformedPayload, result.Reason);
        Assert.StartsWith("not a Sparkplug B protobuf payload", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_OversizePayload_IsRefusedUnread()
    {
        var decoder = Decoder(configure: s => s with { MaxPayloadBytes = 16 });
        var result = decoder.Send(SparkplugMessageType.NBirth, NodeBirth());
        Assert.Equal(RejectionReason.OversizePayload, result.Reason);
    }

    [Theory]
    [InlineData("plant/line1/m7/telemetry")]
    [InlineData("spBv1.0/line1/DDATA/gw1")]
    public void Decode_NotASparkplugTopic_IsUnexpectedTopic(string topic)
    {
        var result = Decoder().Decode(topic, SparkplugCodec.Encode(Data(0)));
        Assert.Equal(RejectionReason.UnexpectedTopic, result.Reason);
        Assert.Contains(topic, result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("spBv1.0/line1/NCMD/gw1")]
    [InlineData("spBv1.0/line1/DCMD/gw1/press7")]
    [InlineData("spBv1.0/STATE/scada1")]
    public void Decode_CommandsAndHostState_AreIgnored(string topic)
    {
        var result = Born().Decode(topic, "{\"online\":true}"u8);
        Assert.False(result.IsRejected);
        Assert.Empty(result.Samples);
        Assert.Empty(result.Commands);
    }

    [Fact]
    public void Decode_BirthBeyondMaxSources_IsTooManyMachines()
    {
        var decoder = Decoder(configure: s => s with { MaxSources = 2 });
        decoder.Send(SparkplugMessageType.NBirth, NodeBirth());
        decoder.Send(SparkplugMessageType.DBirth, DeviceBirth());
        var third = decoder.Decode("spBv1.0/line1/DBIRTH/gw1/press8", SparkplugCodec.Encode(DeviceBirth(2)));
        var rebirth = decoder.Send(SparkplugMessageType.DBirth, DeviceBirth(3));

        Assert.Equal(RejectionReason.TooManyMachines, third.Reason);
        Assert.False(rebirth.IsRejected, rebirth.Detail);
    }

    [Fact]
    public void SubscriptionFilters_EveryGroup_NodeAndDeviceBirthsDataAndDeaths()
    {
        Assert.Equal(
            ["spBv1.0/+/NBIRTH/+", "spBv1.0/+/NDEATH/+", "spBv1.0/+/NDATA/+", "spBv1.0/+/DBIRTH/+/+", "spBv1.0/+/DDEATH/+/+", "spBv1.0/+/DDATA/+/+"],
            Decoder().SubscriptionFilters);
        Assert.Equal(12, Decoder(configure: s => s with { GroupIds = ["line1", "line2"] }).SubscriptionFilters.Count);
        ISampleDecoder contract = Decoder();
        Assert.Equal(6, contract.SubscriptionFilters.Count);
    }

    [Theory]
    [InlineData("vibration", "pressure")] // not a channel
    [InlineData("torque", "pressure")] // two channels on one metric
    public void Constructor_BadMetricNames_NamesTheSetting(string channel, string metric)
    {
        var ex = Assert.Throws<ArgumentException>(() => Decoder(configure: s => s with { MetricNames = new Dictionary<string, string> { [channel] = metric } }));
        Assert.Contains("MetricNames", ex.Message + ex.ParamName, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_ClockMoves_UsesTheDecodersTimeProvider()
    {
        var time = new FakeTimeProvider(Now);
        var decoder = Born(time);
        time.Advance(TimeSpan.FromDays(2));
        var result = decoder.Send(SparkplugMessageType.DData, Data(2, SparkplugMetric.Double(null, 6) with { Alias = 1, Timestamp = Now }));
        Assert.Equal(RejectionReason.AbsurdTimestamp, result.Reason);
    }
}
