using System.CommandLine;
using System.Runtime.InteropServices;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// The hidden <c>containers __monitor SPECFILE [--name NAME]</c>: the owner of a detached container. It creates and
/// starts the container with its output kept in a JSON-lines log, tells <c>run -d</c> on stdout, then waits for the
/// container and records its exit status. The container lives as long as this process.
/// </summary>
internal static class MonitorCommand
{
    public const string Name = "__monitor";

    /// <summary>The first line on stdout once the container runs; the container's id follows.</summary>
    public const string Started = "started ";

    public static Command Create()
    {
        var specFile = new Argument<string>("spec") { Description = "config.json of the container (deleted once read)" };
        var name = new Option<string?>("--name");
        var init = new Option<bool>("--init");
        var command = new Command(Name, "Own a detached container (used by 'run -d')") { Hidden = true };
        command.Arguments.Add(specFile);
        command.Options.Add(name);
        command.Options.Add(init);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // The terminal 'run -d' came from may close: that must not end the container.
            using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => context.Cancel = true);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);
            Container? container = null;
            try
            {
                var path = parse.GetValue(specFile)!;
                var spec = await ContainerSpec.LoadAsync(path, cancellationToken).ConfigureAwait(false);
                File.Delete(path);
                var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                container = await runtime.CreateAsync(
                    parse.GetValue(name), spec, new ContainerCreateOptions { KeepLog = true, Init = parse.GetValue(init) }, cancellationToken).ConfigureAwait(false);
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

            // Neither it nor the runtime is disposed: the container and its state (with the exit status and the log) stay until 'containers rm'.
            var exit = await container.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            return exit.ShellStatus;
        });
        return command;
    }
}
