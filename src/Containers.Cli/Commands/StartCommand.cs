using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers start [-a] CONTAINER...</c>: starts containers made by <c>containers create</c>; with <c>-a</c>
/// (one container) it prints the container's output as it comes and exits with its exit code, as Docker's. A container
/// created with <c>-t</c> is attached to instead (<see cref="AttachCommand"/>); with <c>-i</c> too this terminal's
/// keys go to it (when it was created with <c>-i</c>), and Ctrl-P Ctrl-Q (or the <c>--detach-keys</c> given) detaches.
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
            OptionSpec.Flag("interactive", 'i', "With -a and a container created with -t: this terminal's keys go to the container's (Ctrl-P Ctrl-Q detaches); refused for a container without a terminal"),
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

                if (!terminal && interactive)
                {
                    // Its output comes from its log, and nothing carries this command's input to its stdin: taken
                    // and dropped, the keys typed would be lost while the program waits for them.
                    throw new ContainersException($"container '{id}' has no terminal (it was created without -t): this runtime passes input only to a container's terminal; create it with -it, or leave -i out");
                }

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
}
