using System.Net.Sockets;
using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers start [-a] CONTAINER...</c>: starts containers made by <c>containers create</c>; with <c>-a</c>
/// (one container) it prints the container's output as it comes and exits with its exit code, as Docker's. A container
/// created with <c>-t</c> is attached to instead (<see cref="AttachCommand"/>); with <c>-i</c> too this terminal's
/// keys go to it (when it was created with <c>-i</c>), and Ctrl-P Ctrl-Q (or the <c>--detach-keys</c> given) detaches.
/// A container created with <c>-i</c> and no terminal gets this command's stdin with <c>-ai</c>, until its end (then
/// the container's stdin closes, as Docker's), through its monitor (<see cref="AttachSocket"/>).
/// </summary>
internal static class StartCommand
{
    public static CommandSpec Create() => new("start", "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more created containers")
    {
        MinArguments = 1,
        Options =
        [
            OptionSpec.Flag("attach", 'a', "Print the container's output and exit with its exit code"),
            OptionSpec.Value(DetachKeys.Option, null, "string", "With -ai: the keys that detach: " + DetachKeys.Forms),
            OptionSpec.Flag("interactive", 'i', "With -a and a container created with -i: this command's input goes to it (to its terminal with -t, where Ctrl-P Ctrl-Q detaches; otherwise to its stdin, closed at the input's end)"),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation start, CancellationToken cancellationToken)
    {
        var attach = start.Has("attach");
        if (attach && start.Arguments.Count > 1)
        {
            throw new UsageException("-a attaches to one container: name only one", start.Path);
        }

        // Keys are read only with -ai: anywhere else the keys would be taken and never looked for.
        var interactive = attach && start.Has("interactive");
        var detachKeys = interactive ? DetachKeys.From(start) : null;
        if (!interactive && start.Value(DetachKeys.Option) is not null)
        {
            throw new UsageException($"--{DetachKeys.Option} is for the keys of an attached terminal: give it with -a -i", start.Path);
        }

        var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var id in start.Arguments)
        {
            var container = await runtime.GetAsync(id, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                var info = container.Info;
                if (info.Status is not (ContainerStatus.Created or ContainerStatus.Running))
                {
                    throw new ContainersException($"container '{id}' has {info.Status.ToOciString()}: a container runs once; create another");
                }

                var terminal = container.Spec.Process?.Terminal == true;
                if (!terminal && start.Value(DetachKeys.Option) is not null)
                {
                    throw new ContainersException($"container '{id}' has no terminal (it was created without -t): there is nothing to detach from, its output is followed from its log; leave --{DetachKeys.Option} out");
                }

                // Its stdin, held by its monitor, is attached before it starts, so no input is lost; its output comes from its log.
                using var stdin = !terminal && interactive
                    ? await AttachSocket.ConnectAsync(info, cancellationToken,
                        $"container '{id}' was created without -i: its stdin is closed, so there is nothing to give this command's input to; create it with -i, or leave -i out").ConfigureAwait(false)
                    : null;

                if (attach && terminal)
                {
                    // A terminal's output is attached to, not read from the log: attached first, then started, so its
                    // first output (a shell's prompt) reaches this terminal, as Docker's 'start -ai'.
                    return await AttachCommand.AttachAsync(
                        container, info.Status == ContainerStatus.Created ? () => StartRequest.SendAsync(info, cancellationToken) : null, detachKeys, cancellationToken)
                        .ConfigureAwait(false);
                }

                if (info.Status == ContainerStatus.Created)
                {
                    await StartRequest.SendAsync(info, cancellationToken).ConfigureAwait(false);
                }

                if (!attach)
                {
                    Console.WriteLine(id);
                    continue;
                }

                if (stdin is not null)
                {
                    // Not awaited: it ends with the input, with the attach (the container ended), or with this
                    // command (a terminal nobody types into); it throws nothing.
                    _ = CopyInputAsync(stdin, cancellationToken);
                }

                await foreach (var record in container.ReadLogAsync(follow: true, cancellationToken).ConfigureAwait(false))
                {
                    await (record.Stream == OutputStream.Stderr ? Console.Error : Console.Out).WriteAsync(record.Text).ConfigureAwait(false);
                }

                await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                return (await container.WaitAsync(cancellationToken).ConfigureAwait(false)).ShellStatus;
            }
        }

        return 0;
    }

    /// <summary>This command's stdin to the container's, then the end of it; until the monitor closes the attach (the container ended).</summary>
    private static async Task CopyInputAsync(Socket socket, CancellationToken cancellationToken)
    {
        await using var stdin = Console.OpenStandardInput();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stdin.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await AttachSocket.SendAsync(socket, AttachSocket.Input, buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            await AttachSocket.SendAsync(socket, AttachSocket.EndOfInput, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The container ended (its monitor closed the attach), or this command is ending.
        }
    }
}
