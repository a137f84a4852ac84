using System.Runtime.InteropServices;
using Containers.Cli.CommandLine;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// The hidden <c>containers __monitor [--name NAME] [--init] [--rm] SPECFILE</c>: the owner of a detached container.
/// It creates and starts the container with its output kept in a JSON-lines log, tells <c>run -d</c> on stdout, then
/// waits for the container and records its exit status (or, with <c>--rm</c>, removes it). The container lives as
/// long as this process.
/// </summary>
internal static class MonitorCommand
{
    public const string Name = "__monitor";

    /// <summary>The first line on stdout once the container runs; the container's id follows.</summary>
    public const string Started = "started ";

    public static CommandSpec Create() => new(Name, "[OPTIONS] SPECFILE", "Own a detached container (used by 'run -d')")
    {
        Hidden = true,
        MinArguments = 1,
        MaxArguments = 1,
        Options =
        [
            OptionSpec.Value("name", null, "string", "The container's name"),
            OptionSpec.Flag("init", null, "Run an init as pid 1"),
            OptionSpec.Flag("rm", null, "Remove the container when it exits"),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation monitor, CancellationToken cancellationToken)
    {
        // The terminal 'run -d' came from may close: that must not end the container.
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => context.Cancel = true);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);
        Container? container = null;
        try
        {
            var path = monitor.Arguments[0];
            var spec = await ContainerSpec.LoadAsync(path, cancellationToken).ConfigureAwait(false);
            File.Delete(path);
            var runtime = (await ContainerRuntime.OpenAsync(RunCommand.OneStart, cancellationToken).ConfigureAwait(false));
            container = await runtime.CreateAsync(
                monitor.Value("name"), spec, new ContainerCreateOptions { KeepLog = true, Init = monitor.Has("init") }, cancellationToken).ConfigureAwait(false);
            await container.Stdin.CompleteAsync().ConfigureAwait(false);
            await container.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ContainersException e)
        {
            if (container is not null)
            {
                await container.DisposeAsync().ConfigureAwait(false);
            }

            Console.WriteLine(e.Message.ReplaceLineEndings(" "));
            return Cli.ErrorExitCode;
        }

        Console.WriteLine(Started + container.Id);
        Console.Out.Flush();
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);

        var exit = await container.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        if (monitor.Has("rm"))
        {
            await container.DisposeAsync().ConfigureAwait(false);
        }

        // Otherwise not disposed: the container and its state (with the exit status and the log) stay until 'containers rm'.
        return exit.ShellStatus;
    }
}
