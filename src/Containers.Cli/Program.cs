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
    private static int Main(string[] args)
    {
        ToolShim.Register();
        StandardOutput.Install();
        return WaitWithoutSpinning(Cli.InvokeAsync(Root, args));
    }

    /// <summary>
    /// The command's result, this thread blocked until it is there. An async <c>Main</c>'s wait spins first (a few
    /// hundred microseconds of <c>sched_yield</c>), taking a CPU from the threads that finish the command: on two
    /// CPUs, those that handle a container's exit.
    /// </summary>
    private static int WaitWithoutSpinning(Task<int> command)
    {
        if (!command.IsCompleted)
        {
            var gate = new object();
            lock (gate)
            {
                command.ContinueWith(
                    static (_, g) =>
                    {
                        lock (g!)
                        {
                            Monitor.Pulse(g);
                        }
                    },
                    gate,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
                while (!command.IsCompleted)
                {
                    Monitor.Wait(gate);
                }
            }
        }

        return command.GetAwaiter().GetResult();
    }

    /// <summary>
    /// The commands by name and summary; only the one typed is built (<see cref="CommandEntry"/>), which spares every
    /// start the option tables of the others.
    /// </summary>
    internal static CommandSpec Root { get; } = new(Parser.ProgramName, "COMMAND", "Run Linux processes in containers and manage OCI images")
    {
        Subcommands =
        [
            new("run", "Create and run a new container from an image", RunCommand.Create),
            new("create", "Create a new container from an image without starting it", CreateCommand.Create),
            new("start", "Start one or more created containers", StartCommand.Create),
            new("exec", "Run a command in a running container", ExecCommand.Create),
            new("attach", "Attach this terminal to a running container's (detach with Ctrl-P Ctrl-Q, or --detach-keys)", AttachCommand.Create),
            new("ps", "List containers", PsCommand.Create),
            new("logs", "Print a detached container's output", LogsCommand.Create),
            new("inspect", "Show details of one or more containers as JSON", InspectCommand.Create),
            new("kill", "Send a signal to one or more running containers", KillCommand.Create),
            new("pause", "Pause all processes within one or more containers", PauseCommand.Create),
            new("unpause", "Unpause all processes within one or more containers", PauseCommand.CreateUnpause),
            new("update", "Update configuration of one or more containers", UpdateCommand.Create),
            new("stats", "Display a live stream of container(s) resource usage statistics", StatsCommand.Create),
            new("events", "Get real time events from the containers", EventsCommand.Create),
            new("stop", "Stop one or more running containers", StopCommand.Create),
            new("wait", "Block until one or more containers stop, then print their exit codes", WaitCommand.Create),
            new("top", "Display the running processes of a container", TopCommand.Create),
            new("rm", "Remove one or more containers", RmCommand.Create),
            new("commit", "Create a new image from a container's changes", CommitCommand.Create),
            new("diff", "Inspect changes to files or directories on a container's filesystem", DiffCommand.Create),
            new("cp", "Copy files/folders between a container and the host", CpCommand.Create),
            new("images", "List images", ImagesCommand.Create),
            new("volume", "Manage volumes", VolumeCommand.Create),
            new("image", "Manage images", ImageCommand.Create),
            new("import", "Import an image from an OCI layout, oci-archive or docker-archive; prints the image digest", ImportCommand.Create),
            new("export", "Write an image as an OCI layout, oci-archive or docker-archive", ExportCommand.Create),
            new("tag", "Give an image another name", TagCommand.Create),
            new("rmi", "Remove one or more image names, or images by digest or ID", RmiCommand.Create),
            new("prune", "Remove untagged images and every blob and snapshot no tagged image uses", PruneCommand.Create),
            new("pull", "Pull an image from a registry into the image store; prints the image digest", PullCommand.Create),
            new("push", "Push an image to a registry; prints the manifest digest", PushCommand.Create),
            new("login", "Log in to a registry; the credentials are saved in Docker's config file", LoginCommand.Create),
            new("logout", "Remove a registry's saved credentials", LogoutCommand.Create),
            new("version", "Show the containers version information", VersionCommand.Create),
            new(MonitorCommand.Name, "Own a detached container (used by 'run -d' and 'create')", MonitorCommand.Create) { Hidden = true },
        ],
    };
}
