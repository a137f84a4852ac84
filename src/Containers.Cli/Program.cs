using System.CommandLine;
using Containers.Cli.Commands;

namespace Containers.Cli;

/// <summary>
/// The <c>containers</c> command line: a thin shell over the library. Every command lives in its own file under
/// <c>Commands/</c> and is registered here. Errors print one line on stderr and exit with <see cref="Cli.ErrorExitCode"/>.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("containers: run Linux processes in containers and manage OCI images");
        foreach (var command in Commands())
        {
            root.Subcommands.Add(command);
        }

        return await Cli.InvokeAsync(root, args).ConfigureAwait(false);
    }

    private static IEnumerable<Command> Commands()
    {
        yield return VersionCommand.Create();
        yield return ImportCommand.Create();
        yield return ImagesCommand.Create();
        yield return ImageCommand.Create();
        yield return TagCommand.Create();
        yield return ExportCommand.Create();
        yield return RmiCommand.Create();
        yield return PruneCommand.Create();
        yield return RunCommand.Create();
        yield return PsCommand.Create();
        yield return ExecCommand.Create();
        yield return LogsCommand.Create();
        yield return KillCommand.Create();
        yield return RmCommand.Create();
        yield return MonitorCommand.Create();
        yield return PullCommand.Create();
        yield return PushCommand.Create();
        yield return LoginCommand.Create();
        yield return LogoutCommand.Create();
    }
}
