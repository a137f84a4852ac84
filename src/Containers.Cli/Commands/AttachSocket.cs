using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// How <c>containers attach</c> reaches the terminal of a detached container: its monitor, which holds the terminal's
/// master, listens on a Unix socket in the container's state folder and relays bytes. The monitor keeps reading the
/// master itself (its output goes to the log whether or not anyone is attached), so it cannot hand the master over:
/// two readers of one master would each get part of the output.
/// <list type="table">
/// <item><term>monitor → attach, first</term><description>one line: <c>ok</c>, or why not (a second attach is refused)</description></item>
/// <item><term>monitor → attach, then</term><description>the terminal's output, byte for byte, until the terminal closes (the container ended)</description></item>
/// <item><term>attach → monitor</term><description>
/// frames: a kind byte, a 2-byte big-endian length, the payload; <c>i</c> is input for the terminal (dropped when
/// the container was run without <c>-i</c>, as Docker's), <c>w</c> a window size (columns, rows: 2 bytes each,
/// big-endian)
/// </description></item>
/// </list>
/// The attach ends when either side closes; the container goes on running.
/// </summary>
internal sealed class AttachSocket : IDisposable
{
    public const string SocketName = "attach.sock";
    public const string Ok = "ok";
    public const byte Input = (byte)'i';
    public const byte WindowSize = (byte)'w';

    private readonly Socket _listener;
    private readonly string _path;
    private Socket? _attached;

    private AttachSocket(Socket listener, string path)
    {
        _listener = listener;
        _path = path;
    }

    /// <summary>Serves attaches to the terminal of <paramref name="container"/> until it ends (then the socket is removed).</summary>
    public static AttachSocket Listen(Container container, ContainerTerminal terminal, bool interactive)
    {
        var path = Path.Combine(container.Info.Bundle, SocketName);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(4);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var socket = new AttachSocket(listener, path);
        _ = Task.Run(() => socket.ServeAsync(terminal, interactive));
        return socket;
    }

    private async Task ServeAsync(ContainerTerminal terminal, bool interactive)
    {
        Task? attached = null;
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            // An attach that just detached may not have been seen to close yet: it is given a moment to.
            if (attached is { IsCompleted: false })
            {
                await Task.WhenAny(attached, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
            }

            if (attached is { IsCompleted: false })
            {
                using (client)
                {
                    await SendLineAsync(client, "the container's terminal is attached already: one attach at a time (detach the other with its detach keys, Ctrl-P Ctrl-Q unless it gave --detach-keys)").ConfigureAwait(false);
                }

                continue;
            }

            _attached = client;
            attached = RelayAsync(client, terminal, interactive);
        }
    }

    private static async Task RelayAsync(Socket client, ContainerTerminal terminal, bool interactive)
    {
        using (client)
        {
            await using var stream = new NetworkStream(client, ownsSocket: false);
            try
            {
                await SendLineAsync(client, Ok).ConfigureAwait(false);
                using var copy = terminal.CopyOutputTo(stream);
                var header = new byte[3];
                var payload = new byte[ushort.MaxValue];
                while (await ReadExactlyAsync(stream, header).ConfigureAwait(false))
                {
                    var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1));
                    if (!await ReadExactlyAsync(stream, payload.AsMemory(0, length)).ConfigureAwait(false))
                    {
                        break;
                    }

                    if (header[0] == Input && interactive)
                    {
                        await terminal.Input.WriteAsync(payload.AsMemory(0, length)).ConfigureAwait(false);
                    }
                    else if (header[0] == WindowSize && length == 4)
                    {
                        terminal.Resize(BinaryPrimitives.ReadUInt16BigEndian(payload), BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(2)));
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException or ContainersException)
            {
                // The attach went away, or the terminal closed (the container ended; a resize then fails): either ends this attach.
            }
        }
    }

    /// <summary>Fills <paramref name="buffer"/>; false at end of file.</summary>
    private static async Task<bool> ReadExactlyAsync(Stream stream, Memory<byte> buffer)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer).ConfigureAwait(false);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }

    private static async Task SendLineAsync(Socket client, string line) =>
        await client.SendAsync(Encoding.UTF8.GetBytes(line.ReplaceLineEndings(" ") + "\n")).ConfigureAwait(false);

    /// <summary>Connects to the monitor of the container at <paramref name="info"/>; the socket is attached once this returns.</summary>
    /// <exception cref="ContainersException">It has no terminal to attach to, or its monitor refused.</exception>
    public static async Task<Socket> ConnectAsync(ContainerInfo info, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(info.Bundle, SocketName)), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                throw new ContainersException(
                    $"container '{info.Id}' has no terminal to attach to: only a container of 'run -dt', 'run -dit' or 'create -t' has one (see 'containers logs')");
            }

            // The answer is read a byte at a time: what follows it is the terminal's output, for the caller.
            var line = new List<byte>();
            var one = new byte[1];
            while (await socket.ReceiveAsync(one, cancellationToken).ConfigureAwait(false) == 1 && one[0] != (byte)'\n')
            {
                line.Add(one[0]);
            }

            var answer = Encoding.UTF8.GetString([.. line]);
            if (answer != Ok)
            {
                throw new ContainersException(answer.Length > 0 ? $"cannot attach to container '{info.Id}': {answer}" : $"container '{info.Id}' ended before it was attached");
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends one frame to the monitor.</summary>
    public static async Task SendAsync(Socket socket, byte kind, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var frame = new byte[3 + payload.Length];
        frame[0] = kind;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(1), (ushort)payload.Length);
        payload.CopyTo(frame.AsMemory(3));
        await socket.SendAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops serving; an attach still there sees the end of the output (the container has ended).</summary>
    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(_path);
        _attached?.Dispose();
    }
}
