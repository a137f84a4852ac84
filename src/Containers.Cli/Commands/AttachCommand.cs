using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers attach CONTAINER</c>: this command's terminal attached to the terminal of a detached container
/// (<c>run -dt</c>, <c>run -dit</c>), through its monitor (<see cref="AttachSocket"/>): the container's output on
/// stdout, keys to the container (with <c>-i</c>; the host terminal in raw mode), the window size forwarded now and
/// on every SIGWINCH. Docker's Ctrl-P Ctrl-Q (or the <c>--detach-keys</c> given) detaches (exit 1, as Docker's),
/// leaving the container running; otherwise the command ends with the container and exits with its exit code. One
/// attach at a time.
/// </summary>
internal static class AttachCommand
{
    public static CommandSpec Create() => new("attach", "[OPTIONS] CONTAINER", "Attach this terminal to a running container's (detach with Ctrl-P Ctrl-Q, or --detach-keys)")
    {
        MinArguments = 1,
        MaxArguments = 1,
        Options = [OptionSpec.Value(DetachKeys.Option, null, "string", "The keys that detach: " + DetachKeys.Forms)],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation attach, CancellationToken cancellationToken)
    {
        var detachKeys = DetachKeys.From(attach);
        var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var container = await runtime.GetAsync(attach.Arguments[0], cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            var info = container.Info;
            if (info.Status != ContainerStatus.Running)
            {
                throw new ContainersException($"container '{info.Id}' is not running (it has {info.Status.ToOciString()}): only a running container can be attached");
            }

            // A container created with -i but no terminal has a socket too, for its stdin: 'start -ai' attaches that, once.
            if (container.Spec.Process?.Terminal != true)
            {
                throw new ContainersException(AttachSocket.NoTerminal(info));
            }

            return await AttachAsync(container, start: null, detachKeys, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Attaches this command's terminal to <paramref name="container"/>'s and relays until the container ends (its exit
    /// code) or <paramref name="detachKeys"/> detach (1). <paramref name="start"/>, when given, runs once the attach is
    /// made and before anything is relayed: <c>start -a</c> of a created container, whose first output then reaches this
    /// terminal. Without <paramref name="detachKeys"/> (<c>start -a</c> without <c>-i</c>) no keys are read: only the
    /// output is relayed.
    /// </summary>
    internal static async Task<int> AttachAsync(Container container, Func<Task>? start, DetachKeys? detachKeys, CancellationToken cancellationToken)
    {
        var input = detachKeys is not null;
        using var socket = await AttachSocket.ConnectAsync(container.Info, cancellationToken).ConfigureAwait(false);
        using var gate = new SemaphoreSlim(1, 1);
        using (var raw = input ? HostTerminal.EnterRawMode() : null)
        {
            using var resize = OperatingSystem.IsLinux() ? PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context => _ = SendSizeAsync(socket, gate)) : null;
            await SendSizeAsync(socket, gate).ConfigureAwait(false);
            if (start is not null)
            {
                await start().ConfigureAwait(false);
            }

            var output = CopyOutputAsync(socket, cancellationToken);
            if (input)
            {
                var keys = CopyInputAsync(socket, gate, detachKeys!.Match(), cancellationToken);
                if (await Task.WhenAny(output, keys).ConfigureAwait(false) == keys && await keys.ConfigureAwait(false))
                {
                    raw?.Dispose();
                    await Console.Error.WriteLineAsync("read escape sequence").ConfigureAwait(false);
                    return 1;
                }
            }

            // The input ended (stdin was not a terminal), or is not relayed: the output goes on until the container ends.
            await output.ConfigureAwait(false);
        }

        return (await container.WaitAsync(cancellationToken).ConfigureAwait(false)).ShellStatus;
    }

    /// <summary>The terminal's output to stdout, until the monitor closes the socket (the container ended).</summary>
    private static async Task CopyOutputAsync(Socket socket, CancellationToken cancellationToken)
    {
        using var stdout = HostTerminal.Open(1, FileAccess.Write);
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await stdout.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The monitor went away, or this command detached: the attach is over.
        }
    }

    /// <summary>Keys from stdin to the container until the detach keys (true) or the end of stdin (false).</summary>
    private static async Task<bool> CopyInputAsync(Socket socket, SemaphoreSlim gate, DetachKeys.Matcher detach, CancellationToken cancellationToken)
    {
        using var stdin = HostTerminal.Open(0, FileAccess.Read);
        var buffer = new byte[4096];
        var keys = new List<byte>(buffer.Length);
        var detached = false;
        while (!detached)
        {
            var read = await stdin.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            keys.Clear();
            if (read > 0)
            {
                detached = detach.Feed(buffer.AsSpan(0, read), keys);
            }
            else
            {
                detach.Flush(keys);
            }

            try
            {
                // The keys typed before the detach keys in the same read are the container's too.
                if (keys.Count > 0)
                {
                    await SendAsync(socket, gate, AttachSocket.Input, keys.ToArray(), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (SocketException)
            {
                // The monitor closed the attach (the container ended): the output's end says so.
                return false;
            }

            if (read == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task SendSizeAsync(Socket socket, SemaphoreSlim gate)
    {
        if (HostTerminal.WindowSize(1) is not { } size)
        {
            return;
        }

        var payload = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(payload, size.Columns);
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(2), size.Rows);
        try
        {
            await SendAsync(socket, gate, AttachSocket.WindowSize, payload, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The attach is ending.
        }
    }

    /// <summary>One frame at a time: the keys and a SIGWINCH's size must not interleave.</summary>
    private static async Task SendAsync(Socket socket, SemaphoreSlim gate, byte kind, byte[] payload, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await AttachSocket.SendAsync(socket, kind, payload, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }
}
