using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary><c>containers rmi IMAGE...</c>: removes image names, or images by digest or short id.</summary>
internal static class RmiCommand
{
    public static CommandSpec Create() => new("rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more image names, or images by digest or ID")
    {
        MinArguments = 1,
        Options = [ImageStoreOption.Create(), OptionSpec.Flag("force", 'f', "Untag an image that containers still use instead of refusing (it stays until they are removed)")],
        Action = async (rmi, ct) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(rmi, ct).ConfigureAwait(false);
            foreach (var image in rmi.Arguments)
            {
                var result = await store.RemoveAsync(image, rmi.Has("force"), ct).ConfigureAwait(false);
                Console.WriteLine(result.RemovedImages.Count > 0 ? $"Deleted: {result.RemovedImages[0]}" : $"Untagged: {image}");
            }

            return 0;
        },
    };
}
