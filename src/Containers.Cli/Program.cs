using Containers.Cli.CommandLine;
using Containers.Cli.Commands;

namespace Containers.Cli;

/// <summary>
/// The <c>containers</c> command line: a thin shell over the library. Every command lives in its own file under
/// <c>Commands/</c> and is registered here; <c>CommandLine/</c> parses as Docker does. Errors print one line on
/// stderr and exit with Docker's codes (<see cref="Cli"/>).
/// </summary>
internal static class Program
{
    private static Task<int> Main(string[] args)
    {
        ToolShim.Register();
        return Cli.InvokeAsync(Root, args);
    }

    internal static CommandSpec Root { get; } = new(Parser.ProgramName, "COMMAND", "Run Linux processes in containers and manage OCI images")
    {
        Subcommands =
        [
            RunCommand.Create(),
            CreateCommand.Create(),
            StartCommand.Create(),
            ExecCommand.Create(),
            PsCommand.Create(),
            LogsCommand.Create(),
            InspectCommand.Create(),
            KillCommand.Create(),
            PauseCommand.Create(),
            PauseCommand.CreateUnpause(),
            UpdateCommand.Create(),
            StatsCommand.Create(),
            EventsCommand.Create(),
            StopCommand.Create(),
            WaitCommand.Create(),
            TopCommand.Create(),
            RmCommand.Create(),
            CommitCommand.Create(),
            DiffCommand.Create(),
            CpCommand.Create(),
            ImagesCommand.Create(),
            VolumeCommand.Create(),
            ImageCommand.Create(),
            ImportCommand.Create(),
            ExportCommand.Create(),
            TagCommand.Create(),
            RmiCommand.Create(),
            PruneCommand.Create(),
            PullCommand.Create(),
            PushCommand.Create(),
            LoginCommand.Create(),
            LogoutCommand.Create(),
            VersionCommand.Create(),
            MonitorCommand.Create(),
        ],
    };
}
