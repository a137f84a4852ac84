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
            var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var runtimeScope = runtime.ConfigureAwait(false);
            var containers = await runtime.ListAsync(cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"{"CONTAINER ID",-20} {"STATUS",-20} {"PID",-8} {"CREATED",-20} COMMAND");
            foreach (var info in containers)
            {
                var status = info.Status.ToOciString();
                if (info.Status == ContainerStatus.Stopped && (info.ExitCode ?? info.Signal) is not null)
                {
                    status += info.ExitCode is { } code ? $" ({code})" : $" (signal {info.Signal})";
                }

                var pid = info.Pid is { } p ? p.ToString(CultureInfo.InvariantCulture) : "-";
                var created = info.Created.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                Console.WriteLine($"{info.Id,-20} {status,-20} {pid,-8} {created,-20} {string.Join(' ', info.Command)}");
            }

            return 0;
        });
        return command;
    }
}
