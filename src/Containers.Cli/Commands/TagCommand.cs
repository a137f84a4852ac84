using System.CommandLine;

namespace Containers.Cli.Commands;

/// <summary><c>containers tag IMAGE NEWNAME:TAG</c>: gives an image another name.</summary>
internal static class TagCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "A name, a digest or a unique digest prefix" };
        var name = new Argument<string>("NEWNAME:TAG") { Description = "The new name" };
        var root = ImageStoreOption.Create();
        var command = new Command("tag", "Give an image another name") { image, name, root };
        command.SetAction(async (parse, ct) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            await store.TagAsync(parse.GetValue(image)!, parse.GetValue(name)!, ct).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
