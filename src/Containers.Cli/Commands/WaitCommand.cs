using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers wait CONTAINER...</c>: blocks until each container stops, then prints its exit code (128 + signal when killed).</summary>
internal static class WaitCommand
{
    public static CommandSpec Create() => new("wait", "CONTAINER [CONTAINER...]", "Block until one or more containers stop, then print their exit codes")
    {
        MinArguments = 1,
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation wait, CancellationToken cancellationToken)
    {
        var runtime = (await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false));
        foreach (var id in wait.Arguments)
        {
            var container = await runtime.GetAsync(id, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                var exit = await container.WaitAsync(cancellationToken).ConfigureAwait(false);
                Console.WriteLine(exit.ShellStatus);
            }
        }

        return 0;
    }
}
