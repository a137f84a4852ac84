using System.CommandLine;

namespace Containers.Cli.Commands;

/// <summary><c>containers rmi IMAGE</c>: removes a name (or, by digest, an image) and the content nothing else uses.</summary>
internal static class RmiCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "A name, a digest or a unique digest prefix" };
        var root = ImageStoreOption.Create();
        var command = new Command("rmi", "Remove an image name, or an image by digest") { image, root };
        command.SetAction(async (parse, ct) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            var result = await store.RemoveAsync(parse.GetValue(image)!, ct).ConfigureAwait(false);
            Console.WriteLine(result.RemovedImages.Count > 0 ? $"Deleted: {result.RemovedImages[0]}" : $"Untagged: {parse.GetValue(image)}");
            return 0;
        });
        return command;
    }
}
