using System.Buffers;
using System.Net;
using System.Net.Sockets;
using MQTTnet;
using MQTTnet.Channel;

namespace TSViz.Monitor.Live;

/// <summary>
/// The TCP stream under the monitor's MQTT clients, made for many small packets. MQTTnet reads a packet's fixed header
/// a byte or two at a time and then its body, and writes every packet (a PUBACK, a PUBLISH's header and then its payload)
/// with its own call: on its own socket stream that is one system call each, three to six per message, and on this
/// platform system calls were the largest single cost of the live path.
/// <list type="bullet">
/// <item><b>Reads</b> are served from a 64 KiB buffer filled by one receive, which holds every packet that has arrived.</item>
/// <item><b>Writes</b> are appended to a pending buffer and sent by the connection's own sender thread, which takes
/// everything written meanwhile in one send: the acknowledgements of a batch of input and the explanations of a batch of windows go
/// out together. A write returns once its bytes are queued, in order; QoS 1 delivery still waits for the broker's PUBACK,
/// so nothing is reported delivered that was not. The pending bytes are bounded (<see cref="MaxPendingBytes"/>): a writer
/// waits for room while the peer is slow.</item>
/// <item><b>A failed send</b> fails every later write and shuts the socket down, so the reader sees the connection end and
/// the client reconnects as it does on any broken connection.</item>
/// <item><b>Disposing</b> first sends what is pending (a DISCONNECT, the last acknowledgements; up to two seconds), then closes.</item>
/// </list>
/// </summary>
internal sealed class CoalescingSocketStream : Stream, IMqttClientStreamEndPoints
{
    /// <summary>Bytes that may wait to be sent before a writer waits for the sender.</summary>
    public const int MaxPendingBytes = 4 * 1024 * 1024;

    private const int ReadBufferBytes = 64 * 1024;
    private static readonly TimeSpan DisposeFlushTimeout = TimeSpan.FromSeconds(2);

    private readonly Socket socket;
    private readonly byte[] readBuffer = new byte[ReadBufferBytes];
    private readonly object gate = new();
    private readonly Thread sender;
    private int readStart;
    private int readEnd;
    private ArrayBufferWriter<byte> pending = new(16 * 1024);
    private ArrayBufferWriter<byte>? spare = new(16 * 1024);
    private bool sending;
    private bool senderWaiting;
    private bool closing;
    private Exception? failure;
    private TaskCompletionSource? progress;
    private bool disposed;
    private long sends;
    private long receives;

    public CoalescingSocketStream(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        this.socket = socket;
        LocalEndPoint = socket.LocalEndPoint!;
        RemoteEndPoint = socket.RemoteEndPoint!;
        sender = new Thread(SendLoop) { IsBackground = true, Name = "MQTT socket sender" };
        sender.Start();
    }

    public EndPoint LocalEndPoint { get; }

    public EndPoint RemoteEndPoint { get; }

    /// <summary>Send calls made on the socket so far.</summary>
    public long Sends => Interlocked.Read(ref sends);

    /// <summary>Receive calls made on the socket so far.</summary>
    public long Receives => Interlocked.Read(ref receives);

    public override bool CanRead => !disposed;

    public override bool CanWrite => !disposed;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>One reader at a time (MQTTnet's receive loop, or the TLS stream above it).</summary>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (readStart == readEnd)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            try
            {
                Interlocked.Increment(ref receives);
                if (buffer.Length >= readBuffer.Length)
                {
                    return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                }

                readStart = readEnd = 0; // a receive that is cancelled or fails leaves the buffer empty, not its old bytes
                readEnd = await socket.ReceiveAsync(readBuffer.AsMemory(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new IOException($"Unable to read from the MQTT connection: {ex.Message}", ex);
            }

            if (readEnd == 0)
            {
                return 0;
            }
        }

        int count = Math.Min(buffer.Length, readEnd - readStart);
        readBuffer.AsMemory(readStart, count).CopyTo(buffer);
        readStart += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Queues the bytes to be sent after every byte written before them; waits only while the pending bytes are at their bound.</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            if (TryAppend(buffer.Span))
            {
                return ValueTask.CompletedTask;
            }
        }

        return WriteWhenRoomAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Waits until every byte written before the call has been handed to the socket.</summary>
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (gate)
            {
                ThrowIfFailed();
                if (!sending && pending.WrittenCount == 0)
                {
                    return;
                }

                wait = Progress();
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Lets the sender send what is pending (up to two seconds), then closes the socket.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && BeginDispose())
        {
            // The connection is going anyway: what could not be sent by then is what a broken connection loses
            // (unacknowledged, so redelivered).
            if (!sender.Join(DisposeFlushTimeout))
            {
                ShutDown();
            }

            socket.Dispose();
        }

        base.Dispose(disposing);
    }

    private bool BeginDispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return false;
            }

            disposed = true;
            closing = true;
            if (senderWaiting)
            {
                System.Threading.Monitor.Pulse(gate);
            }

            return true;
        }
    }

    private async ValueTask WriteWhenRoomAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (gate)
            {
                if (TryAppend(buffer.Span))
                {
                    return;
                }

                wait = Progress();
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Under the lock: queues the bytes and wakes the sender when it waits, unless the pending bytes are at their bound.</summary>
    private bool TryAppend(ReadOnlySpan<byte> bytes)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ThrowIfFailed();
        if (pending.WrittenCount > 0 && pending.WrittenCount + bytes.Length > MaxPendingBytes)
        {
            return false;
        }

        pending.Write(bytes);
        if (senderWaiting)
        {
            System.Threading.Monitor.Pulse(gate);
        }

        return true;
    }

    /// <summary>
    /// The sender, on its own thread (so a busy thread pool never holds back an acknowledgement or a keep-alive): takes
    /// everything pending, sends it, and waits for more; after disposal it sends what is left and ends.
    /// </summary>
    private void SendLoop()
    {
        while (true)
        {
            ArrayBufferWriter<byte> batch;
            lock (gate)
            {
                while (pending.WrittenCount == 0 && !closing)
                {
                    sending = false;
                    Signal();
                    senderWaiting = true;
                    System.Threading.Monitor.Wait(gate);
                    senderWaiting = false;
                }

                if (pending.WrittenCount == 0)
                {
                    sending = false;
                    Signal();
                    return;
                }

                sending = true;
                batch = pending;
                pending = spare!;
                spare = null;
                Signal(); // room for waiting writers
            }

            try
            {
                var remaining = batch.WrittenSpan;
                while (!remaining.IsEmpty)
                {
                    Interlocked.Increment(ref sends);
                    remaining = remaining[socket.Send(remaining)..];
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                lock (gate)
                {
                    failure = ex;
                    sending = false;
                    Signal();
                }

                ShutDown();
                return;
            }

            batch.ResetWrittenCount();
            lock (gate)
            {
                spare = batch;
            }
        }
    }

    private void ShutDown()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both); // the reader sees the end of the connection
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    /// <summary>Under the lock: a task completed at the sender's next step.</summary>
    private Task Progress() => (progress ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Under the lock: wakes whoever waits for the sender.</summary>
    private void Signal()
    {
        progress?.TrySetResult();
        progress = null;
    }

    private void ThrowIfFailed()
    {
        if (failure is not null)
        {
            throw new IOException($"Unable to write to the MQTT connection: {failure.Message}", failure);
        }
    }
}

/// <summary>
/// Opens the TCP connection for an MQTTnet client as MQTTnet's own channel would (buffer sizes, no-delay, linger, local
/// end point) and hands it over as a <see cref="CoalescingSocketStream"/>; TLS, when configured, is layered above it by MQTTnet.
/// </summary>
internal sealed class CoalescingStreamProvider(MqttClientTcpOptions tcp) : IMqttClientStreamProvider
{
    public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(brokerEndPoint);
        var socket = tcp.AddressFamily == AddressFamily.Unspecified
            ? new Socket(SocketType.Stream, ProtocolType.Tcp)
            : new Socket(tcp.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (tcp.LocalEndpoint is not null)
            {
                socket.Bind(tcp.LocalEndpoint);
            }

            socket.ReceiveBufferSize = tcp.BufferSize;
            socket.SendBufferSize = tcp.BufferSize;
            socket.NoDelay = tcp.NoDelay;
            if (tcp.LingerState is not null)
            {
                socket.LingerState = tcp.LingerState;
            }

            if (tcp.DualMode is { } dualMode)
            {
                socket.DualMode = dualMode;
            }

            await socket.ConnectAsync(brokerEndPoint, cancellationToken).ConfigureAwait(false);
            return new CoalescingSocketStream(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
