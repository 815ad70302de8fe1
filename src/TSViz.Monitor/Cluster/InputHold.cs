using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace TSViz.Monitor.Cluster;

/// <summary>
/// Whether the machines' owners on this node must hold samples back because a dead node's input is not yet accounted
/// for. A node that dies leaves in its MQTT session what it had not yet staged (<see cref="StagedInput"/>): its last
/// few milliseconds of input and what the broker had queued for it. That reaches the cluster again only when a survivor
/// has taken the session over and staged it (<see cref="SessionTakeover"/>), a second or two later; samples newer than
/// those must not be assembled before them, or the machines' windows around the failure would be lost as out of order.
/// So from the moment the cluster declares a node dead until its takeover is recorded in cluster_takeovers (at most
/// <see cref="Longest"/>), <see cref="Released"/> is pending: the owners (<see cref="MachineGrain"/>) release nothing,
/// and this node's input router holds its hand-overs back (calls to a dead node's grains would only fail). When it
/// completes, each owner reads its machine's staged input again. Samples released before the death was declared are
/// covered by Cluster:ReorderMilliseconds.
/// </summary>
internal sealed partial class InputHold(
    IClusterMembershipService membership, ClusterDatabase database, IOptions<ClusterOptions> cluster, ILogger<InputHold> logger) : BackgroundService
{
    /// <summary>Longest a dead node holds the others' samples back, when its takeover never completes.</summary>
    public static readonly TimeSpan Longest = SessionTakeover.Longest + TimeSpan.FromSeconds(30);

    private const long SchemaLock = 0x7473_7669_7a74_616b; // "tsviztak"

    private readonly Dictionary<SiloAddress, DateTimeOffset> pending = [];
    private readonly HashSet<SiloAddress> settled = [];
    private TaskCompletionSource released = Completed();

    /// <summary>Completes when no dead node's takeover is pending any more (at once when none is).</summary>
    public Task Released
    {
        get
        {
            lock (pending)
            {
                return released.Task;
            }
        }
    }

    /// <summary>Creates cluster_takeovers (before the silo takes input).</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var connection = await database.Source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLock});", connection, transaction))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var create = new NpgsqlCommand(Schema, connection, transaction))
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records that <paramref name="silo"/>'s session was taken over (called by the node that did it).</summary>
    public async Task RecordTakeoverAsync(SiloAddress silo, string node, int messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(silo);
        await using var command = database.Source.CreateCommand("""
            INSERT INTO cluster_takeovers (cluster_id, silo, node, messages, done_at) VALUES (@cluster, @silo, @node, @messages, @at)
            ON CONFLICT (cluster_id, silo) DO UPDATE SET messages = cluster_takeovers.messages + EXCLUDED.messages, done_at = EXCLUDED.done_at;
            """);
        command.Parameters.AddWithValue("cluster", cluster.Value.ClusterId);
        command.Parameters.AddWithValue("silo", silo.ToParsableString());
        command.Parameters.AddWithValue("node", node);
        command.Parameters.AddWithValue("messages", messages);
        command.Parameters.AddWithValue("at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var watch = WatchMembershipAsync(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(250, stoppingToken).ConfigureAwait(false);
                if (!Released.IsCompleted)
                {
                    await ResolveAsync(stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }

        await watch.ConfigureAwait(false);
    }

    private async Task WatchMembershipAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                var activeNames = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
                lock (pending)
                {
                    foreach (var dead in snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead && !activeNames.Contains(m.Name)))
                    {
                        if (!settled.Contains(dead.SiloAddress) && pending.TryAdd(dead.SiloAddress, DateTimeOffset.UtcNow))
                        {
                            if (released.Task.IsCompleted)
                            {
                                released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                            }

                            LogHolding(logger, dead.Name);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Drops the dead nodes whose takeover is recorded, or that held the others back for <see cref="Longest"/>.</summary>
    private async Task ResolveAsync(CancellationToken cancellationToken)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await using var command = database.Source.CreateCommand("SELECT silo FROM cluster_takeovers WHERE cluster_id = @cluster");
            command.Parameters.AddWithValue("cluster", cluster.Value.ClusterId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                done.Add(reader.GetString(0));
            }
        }
        catch (NpgsqlException ex)
        {
            LogReadFailed(logger, ex.Message);
        }

        lock (pending)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var (silo, since) in pending.ToList())
            {
                string address = silo.ToParsableString();
                double seconds = (now - since).TotalSeconds;
                if (done.Contains(address))
                {
                    pending.Remove(silo);
                    settled.Add(silo);
                    LogReleased(logger, address, seconds);
                }
                else if (now - since > Longest)
                {
                    pending.Remove(silo);
                    settled.Add(silo);
                    LogGaveUp(logger, address, Longest.TotalSeconds);
                }
            }

            if (pending.Count == 0)
            {
                released.TrySetResult();
            }
        }
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    private static string Schema { get; } = Script();

    private static string Script()
    {
        using var stream = typeof(InputHold).Assembly.GetManifestResourceStream("cluster/cluster_tables_postgres.sql")
            ?? throw new InvalidOperationException("The resource cluster/cluster_tables_postgres.sql is not in the monitor's assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [LoggerMessage(EventId = 1530, Level = LogLevel.Warning, Message = "Node {Node} is dead: holding samples back until its MQTT session is taken over")]
    private static partial void LogHolding(ILogger logger, string node);

    [LoggerMessage(EventId = 1531, Level = LogLevel.Warning, Message = "Silo {Silo}'s session was taken over: samples flow again after {Seconds:F1} s")]
    private static partial void LogReleased(ILogger logger, string silo, double seconds);

    [LoggerMessage(EventId = 1532, Level = LogLevel.Error, Message = "Silo {Silo}'s session was not taken over within {Seconds} s: releasing the held samples; its unacknowledged input may come late (dropped as out of order, counted)")]
    private static partial void LogGaveUp(ILogger logger, string silo, double seconds);

    [LoggerMessage(EventId = 1533, Level = LogLevel.Warning, Message = "Reading cluster_takeovers failed, retrying: {Error}")]
    private static partial void LogReadFailed(ILogger logger, string error);
}
