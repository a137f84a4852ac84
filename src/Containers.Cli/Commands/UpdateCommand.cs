using Containers.Cli.CommandLine;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary><c>containers update [OPTIONS] CONTAINER...</c>: changes the limits of running containers.</summary>
internal static class UpdateCommand
{
    public static CommandSpec Create() => new("update", "[OPTIONS] CONTAINER [CONTAINER...]", "Update configuration of one or more containers")
    {
        MinArguments = 1,
        Options = ResourceOptions.Options,
        Action = RunAsync,
    };

    private static Task<int> RunAsync(Invocation update, CancellationToken cancellationToken)
    {
        if (!ResourceOptions.Any(update))
        {
            throw new UsageException("give at least one limit to change, such as --memory 512m or --cpus 1", update.Path);
        }

        var resources = ResourceOptions.Apply(update, new LinuxResources());
        return PauseCommand.ForEachAsync(update, (c, t) => c.UpdateAsync(resources, t), cancellationToken);
    }
}
