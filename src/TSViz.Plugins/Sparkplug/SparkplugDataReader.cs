using TSViz.Plugins.Ingest;

namespace TSViz.Plugins.Sparkplug;

/// <summary>
/// What one data message gives: samples and the channel values to keep, or a rejection. A rejection for a channel
/// without a value still keeps the values (<see cref="Values"/> set): an explicit null from the edge node is a fact to
/// remember even when no sample can be made of it.
/// </summary>
internal sealed record DataOutcome(IReadOnlyList<Sample> Samples, float?[]? Values, RejectionReason? Reason, string? Detail)
{
    public static DataOutcome Rejected(RejectionReason reason, string detail, float?[]? values = null) => new([], values, reason, detail);
}

/// <summary>
/// Turns the metrics of an NDATA or DDATA into samples of the model's channels (Sparkplug 3.0.0, sections 6.4.6 and
/// 6.4.7): metrics are found by alias or name in the source's birth (a metric the birth did not declare means the
/// decoder's view is stale: <see cref="RejectionReason.SparkplugNoBirth"/>), read as the datatype the metric or else the
/// birth gives, stamped with the metric's timestamp or else the payload's, and grouped by timestamp: one sample per
/// distinct timestamp, in time order, carrying every channel.
/// </summary>
/// <remarks>
/// A channel absent at a timestamp carries its last value forward (from an earlier timestamp, an earlier message, or the
/// birth). Sparkplug reports by exception: a data message holds the metrics that changed since the birth or the last
/// data message, so a metric left out is unchanged, not missing, and refusing such messages would refuse most of a
/// conformant edge node's traffic. A channel that has no value yet (null in the birth, or set null since) has nothing
/// to carry: the message is refused (<see cref="RejectionReason.MissingChannel"/>), whole, as the JSON decoder refuses
/// a half-usable batch.
/// </remarks>
internal sealed class SparkplugDataReader(SparkplugDecoderSettings settings, ChannelMap channels)
{
    public DataOutcome Read(BornSource source, SparkplugPayload payload, DateTimeOffset now)
    {
        var updates = new List<Update>();
        for (int i = 0; i < payload.Metrics.Count; i++)
        {
            var metric = payload.Metrics[i];
            if (source.Find(metric) is not { } birth)
            {
                return DataOutcome.Rejected(RejectionReason.SparkplugNoBirth, $"{SparkplugText.Describe(metric, i)} was not declared in the birth of '{source.Machine}'");
            }

            if (birth.Channel < 0)
            {
                continue;
            }

            var (update, reason, detail) = ReadUpdate(metric, birth, payload.Timestamp, now);
            if (update is null)
            {
                return DataOutcome.Rejected(reason, detail);
            }

            updates.Add(update);
        }

        if (updates.Count == 0)
        {
            return new DataOutcome([], null, null, null);
        }

        if (source.FirstUndeclared is var undeclared and >= 0)
        {
            return DataOutcome.Rejected(RejectionReason.MissingChannel,
                $"the birth of '{source.Machine}' declares no metric for {channels.Describe(undeclared)}, so no sample of it can be complete");
        }

        return Assemble(source, updates.OrderBy(u => u.Time).ToList());
    }

    /// <summary>Applies the updates timestamp by timestamp; a sample at each timestamp where every channel has a value.</summary>
    private DataOutcome Assemble(BornSource source, List<Update> updates)
    {
        var values = (float?[])source.Values.Clone();
        var samples = new List<Sample>();
        string? incomplete = null;
        int start = 0;
        while (start < updates.Count)
        {
            var time = updates[start].Time;
            var seen = new bool[channels.Count];
            int end = start;
            for (; end < updates.Count && updates[end].Time == time; end++)
            {
                var update = updates[end];
                if (seen[update.Channel])
                {
                    return DataOutcome.Rejected(RejectionReason.DuplicateField, $"{channels.Describe(update.Channel)} has two values at {time:O}");
                }

                seen[update.Channel] = true;
                values[update.Channel] = update.Value;
            }

            int missing = Array.FindIndex(values, v => v is null);
            if (missing >= 0)
            {
                incomplete ??= $"at {time:O} {channels.Describe(missing)} has no value: it is null (in the birth or since) and no data has given it one";
            }
            else
            {
                samples.Add(new Sample(source.Machine, time, [.. values.Select(v => v!.Value)]));
            }

            start = end;
        }

        return incomplete is null
            ? new DataOutcome(samples, values, null, null)
            : DataOutcome.Rejected(RejectionReason.MissingChannel, incomplete, values);
    }

    private (Update? Update, RejectionReason Reason, string Detail) ReadUpdate(SparkplugMetric metric, BirthMetric birth, DateTimeOffset? sent, DateTimeOffset now)
    {
        string what = channels.Describe(birth.Channel);
        if ((metric.Timestamp ?? sent) is not { } time)
        {
            return (null, RejectionReason.WrongType, $"{what} has no timestamp, and neither has the payload");
        }

        // Both times lie within DateTimeOffset's range, so their difference fits a TimeSpan.
        var ahead = time - now;
        if (ahead > settings.MaxFutureSkew)
        {
            return (null, RejectionReason.FutureTimestamp, $"{what} at {time:O} is {ahead} ahead of the monitor's clock ({now:O}); at most {settings.MaxFutureSkew} is allowed");
        }

        if (-ahead > settings.MaxClockSkew)
        {
            return (null, RejectionReason.AbsurdTimestamp, $"{what} at {time:O} is more than {settings.MaxClockSkew} behind the monitor's clock ({now:O})");
        }

        if (metric.IsNull)
        {
            return (new Update(time, birth.Channel, null), default, string.Empty);
        }

        var typed = metric.DataType is null ? metric with { DataType = birth.DataType } : metric;
        if (!typed.TryGetDouble(out double number))
        {
            return (null, RejectionReason.WrongType, $"{what} is {typed.DataType?.ToString() ?? "of no datatype"} with {typed.Value}, not a number of that datatype");
        }

        // A double beyond the float range fits no model input.
        if (!float.IsFinite((float)number))
        {
            return (null, RejectionReason.NonFiniteValue, $"{what} = {number:R} is not a finite float");
        }

        return (new Update(time, birth.Channel, (float)number), default, string.Empty);
    }

    private sealed record Update(DateTimeOffset Time, int Channel, float? Value);
}
