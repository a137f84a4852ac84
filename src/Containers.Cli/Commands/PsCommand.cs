using System.CommandLine;
using System.Globalization;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers ps</c>: lists the containers in the state directory.</summary>
internal static class PsCommand
{
    public static Command Create()
    {
        var command = new Command("ps", "List containers");
        command.SetAction(async (_, cancellationToken) =>
        {
            var states = await new ContainerRuntime().ListAsync(cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"{"CONTAINER ID",-20} {"STATUS",-20} {"PID",-8} {"CREATED",-20} COMMAND");
            foreach (var state in states)
            {
                var status = state.Status.ToOciString();
                if (state.Status == ContainerStatus.Stopped && (state.ExitCode ?? state.Signal) is not null)
                {
                    status += state.ExitCode is { } code ? $" ({code})" : $" (signal {state.Signal})";
                }

                var pid = state.Status.CanKill() ? state.Pid.ToString(CultureInfo.InvariantCulture) : "-";
                var created = state.Created.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                Console.WriteLine($"{state.Id,-20} {status,-20} {pid,-8} {created,-20} {string.Join(' ', state.Command)}");
            }

            return 0;
        });
        return command;
    }
}
