using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary><c>containers prune</c>: removes untagged images and every blob and snapshot no tagged image uses.</summary>
internal static class PruneCommand
{
    public static CommandSpec Create() => new("prune", "[OPTIONS]", "Remove untagged images and every blob and snapshot no tagged image uses")
    {
        MaxArguments = 0,
        Options = [ImageStoreOption.Create()],
        Action = async (prune, ct) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(prune, ct).ConfigureAwait(false);
            var result = await store.PruneAsync(ct).ConfigureAwait(false);
            foreach (var image in result.RemovedImages)
            {
                Console.WriteLine($"Deleted: {image}");
            }

            Console.WriteLine($"Removed {result.RemovedBlobs} blobs and {result.RemovedSnapshots} snapshots, reclaimed {ImagesCommand.Size(result.ReclaimedBytes)}");
            return 0;
        },
    };
}
