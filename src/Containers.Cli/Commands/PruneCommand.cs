using System.CommandLine;

namespace Containers.Cli.Commands;

/// <summary><c>containers prune</c>: removes untagged images and unreachable blobs and snapshots.</summary>
internal static class PruneCommand
{
    public static Command Create()
    {
        var root = ImageStoreOption.Create();
        var command = new Command("prune", "Remove untagged images and every blob and snapshot no tagged image uses") { root };
        command.SetAction(async (parse, ct) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            var result = await store.PruneAsync(ct).ConfigureAwait(false);
            foreach (var image in result.RemovedImages)
            {
                Console.WriteLine($"Deleted: {image}");
            }

            Console.WriteLine($"Removed {result.RemovedBlobs} blobs and {result.RemovedSnapshots} snapshots, reclaimed {ImagesCommand.Size(result.ReclaimedBytes)}");
            return 0;
        });
        return command;
    }
}
