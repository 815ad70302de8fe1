using Orleans.Runtime;

namespace TSViz.Monitor.Cluster;

/// <summary>The cluster membership table's log lines (never a connection string).</summary>
internal static partial class MembershipLog
{
    [LoggerMessage(EventId = 1520, Level = LogLevel.Information, Message = "Cluster membership: created the version row of cluster {ClusterId} in PostgreSQL")]
    public static partial void VersionRowCreated(ILogger logger, string clusterId);

    [LoggerMessage(EventId = 1521, Level = LogLevel.Debug, Message = "Cluster membership: {Operation} of silo {Silo} in cluster {ClusterId} refused: {Reason} (another silo wrote first; Orleans reads the table again)")]
    public static partial void WriteRefused(ILogger logger, string operation, SiloAddress silo, string reason, string clusterId);

    [LoggerMessage(EventId = 1522, Level = LogLevel.Information, Message = "Cluster membership: deleted {Count} row(s) of silos of cluster {ClusterId} dead before {Before}")]
    public static partial void DefunctRowsDeleted(ILogger logger, int count, string clusterId, DateTimeOffset before);
}
