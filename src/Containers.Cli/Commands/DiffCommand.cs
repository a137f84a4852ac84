using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary><c>containers diff CONTAINER</c>: the paths a container added (A), changed (C) and deleted (D) relative to its image, one per line.</summary>
internal static class DiffCommand
{
    public static CommandSpec Create() => new("diff", "[OPTIONS] CONTAINER", "Inspect changes to files or directories on a container's filesystem")
    {
        MinArguments = 1,
        MaxArguments = 1,
        Options = [ImageStoreOption.Create()],
        Action = async (diff, cancellationToken) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(diff, cancellationToken).ConfigureAwait(false);
            await using var runtime = await ContainerRuntime.OpenAsync(ContainerRequest.OneStart with { Images = store }, cancellationToken).ConfigureAwait(false);
            var container = await runtime.GetAsync(diff.Arguments[0], cancellationToken).ConfigureAwait(false);
            await using (container.ConfigureAwait(false))
            {
                foreach (var change in await container.DiffAsync(cancellationToken).ConfigureAwait(false))
                {
                    Console.WriteLine(change.ToString());
                }
            }

            return 0;
        },
    };
}
