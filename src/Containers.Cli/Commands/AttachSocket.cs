using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// How <c>containers attach</c> reaches the terminal of a detached container, and <c>start -ai</c> the stdin of one
/// created with <c>-i</c> but no terminal: its monitor, which holds the terminal's master or the stdin pipe, listens on
/// a Unix socket in the container's state folder and relays bytes. The monitor keeps reading the master itself (its
/// output goes to the log whether or not anyone is attached), so it cannot hand the master over: two readers of one
/// master would each get part of the output.
/// <list type="table">
/// <item><term>monitor → attach, first</term><description>one line: <c>ok</c>, or why not (a second attach is refused)</description></item>
/// <item><term>monitor → attach, then</term><description>the terminal's output, byte for byte, until the terminal
/// closes (the container ended); without a terminal nothing (the output is in the log)</description></item>
/// <item><term>attach → monitor</term><description>
/// frames: a kind byte, a 2-byte big-endian length, the payload; <c>i</c> is input for the terminal (dropped when
/// the container was run without <c>-i</c>, as Docker's) or for stdin, <c>w</c> a window size (columns, rows: 2 bytes
/// each, big-endian; terminals only), <c>e</c> the end of the input (stdin only: the container's stdin is closed)
/// </description></item>
/// </list>
/// The attach ends when either side closes; the container goes on running. An attach to stdin closes the container's
/// stdin when it ends, as Docker's <c>start -ai</c> does (its stdin is attached once), so later input is refused.
/// </summary>
internal sealed class AttachSocket : IDisposable
{
    public const string SocketName = "attach.sock";
    public const string Ok = "ok";
    public const byte Input = (byte)'i';
    public const byte WindowSize = (byte)'w';
    public const byte EndOfInput = (byte)'e';

    private readonly Socket _listener;
    private readonly string _path;
    private Socket? _attached;

    private AttachSocket(Socket listener, string path)
    {
        _listener = listener;
        _path = path;
    }

    /// <summary>
    /// Serves attaches to the terminal of <paramref name="container"/>, or without one (<paramref name="terminal"/>
    /// null) to its stdin, until it ends (then the socket is removed).
    /// </summary>
    public static AttachSocket Listen(Container container, ContainerTerminal? terminal, bool interactive)
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
        _ = Task.Run(() => socket.ServeAsync(container, terminal, interactive));
        return socket;
    }

    private async Task ServeAsync(Container container, ContainerTerminal? terminal, bool interactive)
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

            var refusal = attached is { IsCompleted: false }
                ? terminal is null
                    ? "the container's stdin is attached already: one attach at a time"
                    : "the container's terminal is attached already: one attach at a time (detach the other with its detach keys, Ctrl-P Ctrl-Q unless it gave --detach-keys)"
                : terminal is null && attached is not null ? "the container's stdin was attached once and is closed" : null;
            if (refusal is not null)
            {
                using (client)
                {
                    await SendLineAsync(client, refusal).ConfigureAwait(false);
                }

                continue;
            }

            _attached = client;
            attached = terminal is null ? RelayStdinAsync(client, container.Stdin) : RelayAsync(client, terminal, interactive);
        }
    }

    private static async Task RelayStdinAsync(Socket client, PipeWriter stdin)
    {
        using (client)
        {
            await using var stream = new NetworkStream(client, ownsSocket: false);
            try
            {
                await SendLineAsync(client, Ok).ConfigureAwait(false);
                var header = new byte[3];
                var payload = new byte[ushort.MaxValue];
                while (await ReadFrameAsync(stream, header, payload).ConfigureAwait(false) is { } frame && frame.Kind != EndOfInput)
                {
                    if (frame.Kind == Input && (await stdin.WriteAsync(payload.AsMemory(0, frame.Length)).ConfigureAwait(false)).IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // The attach went away, or the container ended (its stdin then takes no more).
            }
            finally
            {
                // The end of the input, or of the attach: the program reads the end of its stdin.
                await stdin.CompleteAsync().ConfigureAwait(false);
            }
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
                while (await ReadFrameAsync(stream, header, payload).ConfigureAwait(false) is { } frame)
                {
                    if (frame.Kind == Input && interactive)
                    {
                        await terminal.Input.WriteAsync(payload.AsMemory(0, frame.Length)).ConfigureAwait(false);
                    }
                    else if (frame.Kind == WindowSize && frame.Length == 4)
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

    /// <summary>The next frame of an attach (its payload read into <paramref name="payload"/>); null once the attach has ended.</summary>
    private static async Task<(byte Kind, int Length)?> ReadFrameAsync(Stream stream, byte[] header, byte[] payload)
    {
        if (!await ReadExactlyAsync(stream, header).ConfigureAwait(false))
        {
            return null;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(1));
        return await ReadExactlyAsync(stream, payload.AsMemory(0, length)).ConfigureAwait(false) ? (header[0], length) : null;
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

    /// <summary>
    /// Connects to the monitor of the container at <paramref name="info"/>; the socket is attached once this returns.
    /// <paramref name="absent"/> is the error when the container has no monitor socket (no terminal, by default).
    /// </summary>
    /// <exception cref="ContainersException">It has no terminal (or stdin) to attach to, or its monitor refused.</exception>
    public static async Task<Socket> ConnectAsync(ContainerInfo info, CancellationToken cancellationToken, string? absent = null)
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
                throw new ContainersException(absent ?? NoTerminal(info));
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

    /// <summary>Why <c>attach</c> cannot reach the container at <paramref name="info"/>: it has no terminal.</summary>
    public static string NoTerminal(ContainerInfo info) =>
        $"container '{info.Id}' has no terminal to attach to: only a container of 'run -dt', 'run -dit' or 'create -t' has one (see 'containers logs')";

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
