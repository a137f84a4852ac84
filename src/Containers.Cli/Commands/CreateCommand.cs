using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers create [OPTIONS] IMAGE [COMMAND] [ARG...]</c>: creates a container as <c>run</c> would, without
/// starting it, and prints its id; <c>containers start</c> runs it. A monitor process owns it (as for <c>run -d</c>),
/// so its output goes to its log; with <c>-t</c> the monitor holds its terminal, which <c>start -a</c> and
/// <c>attach</c> attach to.
/// </summary>
internal static class CreateCommand
{
    public static CommandSpec Create() => new("create", ContainerRequest.Usage, "Create a new container from an image without starting it")
    {
        MinArguments = 1,
        OptionsEndAtFirstArgument = true,
        Options =
        [
            OptionSpec.Flag("interactive", 'i', "Keep stdin open: 'start -ai' gives it its input (keys to its terminal with -t, also through 'attach')"),
            OptionSpec.Flag("rm", null, "Remove the container when it exits"),
            .. ContainerRequest.Options,
        ],
        Action = async (create, cancellationToken) =>
        {
            if (create.Has("sandbox"))
            {
                throw new UsageException("--sandbox needs 'containers run' in the foreground: its timeout is kept by that command", create.Path);
            }

            await ContainerRequest.PullAsync(create, cancellationToken).ConfigureAwait(false);
            return await MonitorCommand.StartAsync(create, cancellationToken, created: true).ConfigureAwait(false);
        },
    };
}
