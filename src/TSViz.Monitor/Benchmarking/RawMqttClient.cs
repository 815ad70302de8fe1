using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace TSViz.Monitor.Benchmarking;

/// <summary>
/// A lean MQTT 3.1.1 client for the bench's own gateways and observer (`bench --live --harness raw`), written against
/// the protocol on a plain socket: QoS 1 publishes with a bounded in-flight window, one subscription with its QoS 1
/// deliveries acknowledged, nothing else (no retries, no keep-alive: the connection is loopback and never idle long
/// enough to matter, and keep-alive 0 tells the broker not to expect pings). A plant's gateways are embedded clients of
/// about this weight and run on their own hardware. On the bench's two cores, its gateways and observer took 135-162 µs
/// of CPU per window on MQTTnet's client with a timer per message, and 71-82 µs on this one with a scan every 5 ms
/// (docs/benchmarks.md), CPU the monitor it measures no longer loses.
/// <list type="bullet">
/// <item>A dedicated reader thread receives into one buffer and handles every complete packet in it: PUBACKs free
/// in-flight slots, PUBLISHes go to the handler, and their PUBACKs go out together in one send.</item>
/// <item>A broken connection fails the in-flight publishes (counted by the caller) and <see cref="IsConnected"/> turns
/// false; the caller reconnects with a new client.</item>
/// </list>
/// </summary>
internal sealed class RawMqttClient : IDisposable
{
    /// <summary>Called on the reader thread for every received PUBLISH: its topic and payload (valid during the call only).</summary>
    public delegate void MessageHandler(ReadOnlySpan<byte> topic, ReadOnlySpan<byte> payload);

    private const byte Connect = 0x10, ConnAck = 0x20, PublishQos1 = 0x32, PubAck = 0x40, Subscribe = 0x82, SubAck = 0x90, Disconnect = 0xE0;

    private static readonly TimeSpan SlotPoll = TimeSpan.FromMilliseconds(100);

    private readonly Socket socket;
    private readonly SemaphoreSlim slots;
    private readonly int maxInFlight;
    private readonly MessageHandler? handler;
    private readonly Action? acknowledged;
    private readonly TaskCompletionSource<byte> subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object sendGate = new();
    private readonly Thread reader;
    private byte[] sendBuffer = new byte[4096];
    private int nextPacketId;
    private volatile bool connected;

    private RawMqttClient(Socket socket, int maxInFlight, MessageHandler? handler, Action? acknowledged)
    {
        this.socket = socket;
        this.handler = handler;
        this.acknowledged = acknowledged;
        this.maxInFlight = maxInFlight;
        slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        reader = new Thread(ReadLoop) { IsBackground = true, Name = "bench MQTT reader" };
    }

    public bool IsConnected => connected;

    /// <summary>What ended the connection when it was not the socket: a malformed packet or a handler's exception.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Publishes that were sent and not acknowledged when the connection broke (they are not counted as offered).</summary>
    public int Unacknowledged => maxInFlight - slots.CurrentCount;

    /// <summary>Connects with a clean session; <paramref name="acknowledged"/> runs on the reader thread for every PUBACK, <paramref name="handler"/> for every message.</summary>
    public static async Task<RawMqttClient> ConnectAsync(string host, int port, string clientId, int maxInFlight, Action? acknowledged, MessageHandler? handler, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 1 << 20, SendBufferSize = 1 << 20 };
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            var id = Encoding.UTF8.GetBytes(clientId);
            var packet = new List<byte> { Connect };
            byte[] variable = [0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 0x02 /* clean session */, 0, 0 /* no keep-alive */];
            AppendLength(packet, variable.Length + 2 + id.Length);
            packet.AddRange(variable);
            packet.Add((byte)(id.Length >> 8));
            packet.Add((byte)id.Length);
            packet.AddRange(id);
            await socket.SendAsync(packet.ToArray(), cancellationToken).ConfigureAwait(false);
            var ack = new byte[4];
            for (int read = 0; read < 4;)
            {
                int n = await socket.ReceiveAsync(ack.AsMemory(read), cancellationToken).ConfigureAwait(false);
                read += n > 0 ? n : throw new IOException("The broker closed the connection before CONNACK.");
            }

            if (ack[0] != ConnAck || ack[1] != 2 || ack[3] != 0)
            {
                throw new IOException($"The broker refused the connection (CONNACK {Convert.ToHexString(ack)}).");
            }

            var client = new RawMqttClient(socket, maxInFlight, handler, acknowledged) { connected = true };
            client.reader.Start();
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Subscribes to <paramref name="filter"/> at QoS 1 and waits for the broker's SUBACK.</summary>
    public async Task SubscribeAsync(string filter, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(filter);
        var packet = new List<byte> { Subscribe };
        AppendLength(packet, 2 + 2 + bytes.Length + 1);
        packet.AddRange([0, 1, (byte)(bytes.Length >> 8), (byte)bytes.Length]);
        packet.AddRange(bytes);
        packet.Add(1);
        lock (sendGate)
        {
            socket.Send(packet.ToArray());
        }

        byte granted = await subscribed.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        if (granted > 1)
        {
            throw new IOException($"The broker refused the subscription to {filter} (return code {granted}).");
        }
    }

    /// <summary>
    /// Sends one QoS 1 PUBLISH once an in-flight slot is free (blocking until then); its PUBACK frees the slot and runs
    /// the acknowledgement callback. Returns false when the connection is broken.
    /// </summary>
    public bool Publish(ReadOnlySpan<byte> topic, ReadOnlySpan<byte> payload, CancellationToken cancellationToken)
    {
        while (!slots.Wait(SlotPoll, cancellationToken))
        {
            if (!connected)
            {
                return false; // the slots of publishes lost with the connection are never freed
            }
        }

        if (!connected)
        {
            slots.Release();
            return false;
        }

        int id = (nextPacketId % 65_535) + 1;
        nextPacketId = id;
        int remaining = 2 + topic.Length + 2 + payload.Length;
        int size = 1 + LengthBytes(remaining) + remaining;
        if (sendBuffer.Length < size)
        {
            sendBuffer = new byte[Math.Max(size, sendBuffer.Length * 2)];
        }

        var span = sendBuffer.AsSpan();
        span[0] = PublishQos1;
        int at = 1 + WriteLength(span[1..], remaining);
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)topic.Length);
        topic.CopyTo(span[(at + 2)..]);
        at += 2 + topic.Length;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)id);
        payload.CopyTo(span[(at + 2)..]);
        try
        {
            lock (sendGate)
            {
                socket.Send(sendBuffer, 0, size, SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            Broken();
            return false;
        }
        catch (ObjectDisposedException)
        {
            Broken();
            return false;
        }

        return true;
    }

    public void Dispose()
    {
        if (connected)
        {
            try
            {
                lock (sendGate)
                {
                    socket.Send([Disconnect, 0]);
                }
            }
            catch (SocketException)
            {
                // Already gone.
            }
        }

        connected = false;
        socket.Dispose();
        slots.Dispose();
    }

    private void Broken()
    {
        connected = false;
        subscribed.TrySetException(new IOException("The connection to the broker broke."));
    }

    private void ReadLoop()
    {
        var buffer = new byte[256 * 1024];
        var acks = new byte[4 * 1024];
        int filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2); // one packet larger than the buffer
                }

                int n = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
                if (n <= 0)
                {
                    break;
                }

                filled += n;
                int at = 0, ackBytes = 0;
                while (TryReadPacket(buffer.AsSpan(at, filled - at), out byte header, out int bodyStart, out int bodyLength))
                {
                    var body = buffer.AsSpan(at + bodyStart, bodyLength);
                    at += bodyStart + bodyLength;
                    switch (header & 0xF0)
                    {
                        case PubAck:
                            slots.Release();
                            acknowledged?.Invoke();
                            break;
                        case 0x30: // PUBLISH
                            int topicLength = BinaryPrimitives.ReadUInt16BigEndian(body);
                            int qos = (header >> 1) & 3;
                            int payloadStart = 2 + topicLength + (qos > 0 ? 2 : 0);
                            handler?.Invoke(body.Slice(2, topicLength), body[payloadStart..]);
                            if (qos == 1)
                            {
                                if (ackBytes + 4 > acks.Length)
                                {
                                    Send(acks, ackBytes);
                                    ackBytes = 0;
                                }

                                acks[ackBytes] = PubAck;
                                acks[ackBytes + 1] = 2;
                                acks[ackBytes + 2] = body[2 + topicLength];
                                acks[ackBytes + 3] = body[3 + topicLength];
                                ackBytes += 4;
                            }

                            break;
                        case SubAck & 0xF0:
                            subscribed.TrySetResult(body[^1]);
                            break;
                        default:
                            break;
                    }
                }

                if (ackBytes > 0)
                {
                    Send(acks, ackBytes);
                }

                buffer.AsSpan(at, filled - at).CopyTo(buffer);
                filled -= at;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The connection broke or was closed.
        }
        catch (Exception ex)
        {
            // A packet the bench cannot take (or a handler's failure): the connection ends, and the failure is kept for the report.
            Failure = ex;
        }

        Broken();
    }

    private void Send(byte[] bytes, int count)
    {
        lock (sendGate)
        {
            socket.Send(bytes, 0, count, SocketFlags.None);
        }
    }

    /// <summary>Whether <paramref name="data"/> starts with a whole packet: its first byte and where its body starts and ends.</summary>
    private static bool TryReadPacket(ReadOnlySpan<byte> data, out byte header, out int bodyStart, out int bodyLength)
    {
        header = 0;
        bodyStart = bodyLength = 0;
        if (data.Length < 2)
        {
            return false;
        }

        int length = 0, shift = 0, i = 1;
        while (true)
        {
            if (i >= data.Length || i > 4)
            {
                if (i > 4)
                {
                    throw new IOException("Malformed remaining length from the broker.");
                }

                return false;
            }

            byte b = data[i++];
            length |= (b & 0x7F) << shift;
            shift += 7;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        if (data.Length - i < length)
        {
            return false;
        }

        header = data[0];
        bodyStart = i;
        bodyLength = length;
        return true;
    }

    private static int LengthBytes(int length) => length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4;

    private static int WriteLength(Span<byte> destination, int length)
    {
        int i = 0;
        do
        {
            byte b = (byte)(length % 128);
            length /= 128;
            destination[i++] = length > 0 ? (byte)(b | 0x80) : b;
        }
        while (length > 0);
        return i;
    }

    private static void AppendLength(List<byte> packet, int length)
    {
        Span<byte> bytes = stackalloc byte[4];
        int n = WriteLength(bytes, length);
        for (int i = 0; i < n; i++)
        {
            packet.Add(bytes[i]);
        }
    }
}
