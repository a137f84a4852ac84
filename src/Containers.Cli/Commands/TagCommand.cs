using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary><c>containers tag IMAGE NEWNAME[:TAG]</c>: gives an image another name.</summary>
internal static class TagCommand
{
    public static CommandSpec Create() => new("tag", "[OPTIONS] IMAGE NEWNAME[:TAG]", "Give an image another name")
    {
        MinArguments = 2,
        MaxArguments = 2,
        Options = [ImageStoreOption.Create()],
        Action = async (tag, ct) =>
        {
            await using var store = await ImageStoreOption.OpenAsync(tag, ct).ConfigureAwait(false);
            await store.TagAsync(tag.Arguments[0], tag.Arguments[1], ct).ConfigureAwait(false);
            return 0;
        },
    };
}
