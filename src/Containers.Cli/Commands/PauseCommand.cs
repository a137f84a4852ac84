using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers pause CONTAINER...</c> and <c>containers unpause CONTAINER...</c>: the cgroup freezer.</summary>
internal static class PauseCommand
{
    public static CommandSpec Create() => new("pause", "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers")
    {
        MinArguments = 1,
        Action = (invocation, token) => ForEachAsync(invocation, (c, t) => c.PauseAsync(t), token),
    };

    public static CommandSpec CreateUnpause() => new("unpause", "CONTAINER [CONTAINER...]", "Unpause all processes within one or more containers")
    {
        MinArguments = 1,
        Action = (invocation, token) => ForEachAsync(invocation, (c, t) => c.ResumeAsync(t), token),
    };

    internal static async Task<int> ForEachAsync(Invocation invocation, Func<Container, CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        var runtime = await ContainerRuntime.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var name in invocation.Arguments)
        {
            var container = await runtime.GetAsync(name, cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                await action(container, cancellationToken).ConfigureAwait(false);
                Console.WriteLine(name);
            }
        }

        return 0;
    }
}
