using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers rm [-f] CONTAINER...</c>: removes stopped containers; <c>-f</c> kills running ones first.</summary>
internal static class RmCommand
{
    public static CommandSpec Create() => new("rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers")
    {
        MinArguments = 1,
        Options = [OptionSpec.Flag("force", 'f', "Kill the container first if it runs")],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation rm, CancellationToken cancellationToken)
    {
        var runtime = (await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        foreach (var name in rm.Arguments)
        {
            var container = await runtime.GetAsync(name, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                if (container.Status.CanKill())
                {
                    if (!rm.Has("force"))
                    {
                        throw new ContainerStatusException(container.Id, "remove", container.Status, "stop it first or use 'containers rm -f'");
                    }

                    await container.KillAsync(cancellationToken).ConfigureAwait(false);
                }

                await container.DeleteAsync(cancellationToken).ConfigureAwait(false);
                Console.WriteLine(container.Id);
            }
        }

        return 0;
    }
}
