using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using MQTTnet;
using TSViz.Monitor.Live;

namespace TSViz.Monitor.Tests.Live;

/// <summary>The MQTT clients' socket stream on real loopback TCP connections: order, coalescing, bounds, failure and close.</summary>
public sealed class CoalescingSocketStreamTests : IAsyncLifetime, IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private CoalescingSocketStream? client;
    private Socket? server;

    public async Task InitializeAsync()
    {
        listener.Start();
        var accepted = listener.AcceptSocketAsync();
        var tcp = new MqttClientTcpOptions { BufferSize = 256 * 1024, NoDelay = true, LingerState = new LingerOption(false, 0) }; // a graceful close, so the disposing test sees every byte
        client = (CoalescingSocketStream)await new CoalescingStreamProvider(tcp).ConnectAsync(listener.LocalEndpoint, CancellationToken.None);
        server = await accepted;
    }

    public async Task DisposeAsync()
    {
        if (client is not null)
        {
            await client.DisposeAsync();
        }

        server?.Dispose();
        listener.Stop();
    }

    public void Dispose() => listener.Dispose();

    [Fact]
    public async Task Writes_FromConcurrentWriters_ArriveWholeAndInEachWritersOrder()
    {
        const int writers = 8, perWriter = 2_000, record = 16;
        var reading = ReadExactlyAsync(writers * perWriter * record);
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var bytes = new byte[record];
            for (int i = 0; i < perWriter; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes, w);
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), i);
                bytes.AsSpan(8).Fill((byte)(w + i));
                await client!.WriteAsync(bytes);
            }
        })));

        var received = await reading;
        var next = new int[writers];
        for (int offset = 0; offset < received.Length; offset += record)
        {
            int w = BinaryPrimitives.ReadInt32LittleEndian(received.AsSpan(offset));
            int i = BinaryPrimitives.ReadInt32LittleEndian(received.AsSpan(offset + 4));
            Assert.Equal(next[w]++, i);
            Assert.All(received.AsSpan(offset + 8, 8).ToArray(), b => Assert.Equal((byte)(w + i), b));
        }

        Assert.All(next, n => Assert.Equal(perWriter, n));
    }

    [Fact]
    public async Task Writes_InQuickSuccession_GoOutInFewSends()
    {
        const int writes = 1_000;
        var reading = ReadExactlyAsync(writes * 4);
        for (int i = 0; i < writes; i++)
        {
            await client!.WriteAsync(BitConverter.GetBytes(i)); // a PUBACK is four bytes
        }

        var received = await reading;
        Assert.Equal(Enumerable.Range(0, writes), Enumerable.Range(0, writes).Select(i => BitConverter.ToInt32(received, i * 4)));
        Assert.InRange(client!.Sends, 1, writes / 10); // one send per write was the stream MQTTnet uses by itself
    }

    [Fact]
    public async Task Reads_SmallReads_AreServedFromOneReceive()
    {
        var sent = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        await server!.SendAsync(sent);
        var received = new byte[sent.Length];
        int total = 0;
        while (total < sent.Length)
        {
            // As MQTTnet reads: two bytes of fixed header, then the rest in small pieces.
            int read = await client!.ReadAsync(received.AsMemory(total, Math.Min(total == 0 ? 2 : 37, sent.Length - total)));
            Assert.True(read > 0);
            total += read;
        }

        Assert.Equal(sent, received);
        Assert.InRange(client!.Receives, 1, 5); // one per piece, over 270, before
    }

    [Fact]
    public async Task Read_CancelledWhileWaiting_LeavesNoOldBytesForTheNextRead()
    {
        await server!.SendAsync("0123456789"u8.ToArray());
        var first = new byte[10];
        await client!.ReadExactlyAsync(first);
        Assert.Equal("0123456789"u8.ToArray(), first);

        using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.ReadAtLeastAsync(new byte[16], 1, cancellationToken: cancel.Token));
        }

        await server.SendAsync("xyz"u8.ToArray());
        var next = new byte[16];
        int read = await client.ReadAtLeastAsync(next, 3).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("xyz", System.Text.Encoding.ASCII.GetString(next, 0, read));
    }

    [Fact]
    public async Task Dispose_SendsWhatIsStillPending_ThenCloses()
    {
        var payload = Enumerable.Range(0, 3 * 1024 * 1024).Select(i => (byte)i).ToArray();
        var reading = ReadToEndAsync();
        await client!.WriteAsync(payload);
        await client.DisposeAsync();
        client = null;

        Assert.Equal(payload, await reading);
    }

    [Fact]
    public async Task Writes_WhilePeerDoesNotRead_WaitWithBoundedBytesPending_ThenResume()
    {
        var chunk = new byte[64 * 1024];
        long queued = 0;
        ValueTask write;
        while ((write = client!.WriteAsync(chunk)).IsCompleted)
        {
            await write;
            queued += chunk.Length;
            Assert.True(queued < 64L * 1024 * 1024, "the stream kept queuing bytes its peer did not read");
        }

        // The bound, plus what the two kernels' socket buffers hold.
        Assert.InRange(queued, CoalescingSocketStream.MaxPendingBytes / 2, CoalescingSocketStream.MaxPendingBytes + (8L * 1024 * 1024));
        var reading = ReadExactlyAsync(queued + chunk.Length);
        await write.AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(queued + chunk.Length, (await reading).LongLength);
    }

    [Fact]
    public async Task PeerResets_LaterWritesFail_AndTheReaderSeesTheEnd()
    {
        server!.LingerState = new LingerOption(true, 0);
        server.Close(); // a reset: the next send fails
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IOException? failure = null;
        while (failure is null && DateTime.UtcNow < deadline)
        {
            try
            {
                await client!.WriteAsync(new byte[1024]);
                await Task.Delay(10);
            }
            catch (IOException ex)
            {
                failure = ex;
            }
        }

        Assert.NotNull(failure);
        Assert.Contains("MQTT connection", failure.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<IOException>(async () => await client!.WriteAsync(new byte[4]));
        await Assert.ThrowsAsync<IOException>(() => client!.FlushAsync());
        int read;
        try
        {
            read = await client!.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
            read = 0;
        }

        Assert.Equal(0, read);
    }

    private async Task<byte[]> ReadExactlyAsync(long count)
    {
        var buffer = new byte[count];
        int total = 0;
        while (total < count)
        {
            int read = await server!.ReceiveAsync(buffer.AsMemory(total));
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return buffer[..total];
    }

    private async Task<byte[]> ReadToEndAsync()
    {
        using var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await server!.ReceiveAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, read);
        }

        return all.ToArray();
    }
}
