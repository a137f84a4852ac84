using System.CommandLine;
using Containers.Images;

namespace Containers.Cli.Commands;

/// <summary><c>containers image inspect IMAGE</c>: the image's manifest, config and names as JSON.</summary>
internal static class ImageCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "A name, a digest or a unique digest prefix" };
        var root = ImageStoreOption.Create();
        var inspect = new Command("inspect", "Show an image's digest, names, config and manifest as JSON") { image, root };
        inspect.SetAction(async (parse, ct) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            var found = await store.ResolveAsync(parse.GetValue(image)!, ct).ConfigureAwait(false);
            Console.WriteLine(found.ToJson());
            return 0;
        });
        return new Command("image", "Manage images") { inspect };
    }
}
