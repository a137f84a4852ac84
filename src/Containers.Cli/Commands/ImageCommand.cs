using Containers.Cli.CommandLine;
using Containers.Images;

namespace Containers.Cli.Commands;

/// <summary><c>containers image inspect IMAGE</c>: the image's manifest, config and names as JSON.</summary>
internal static class ImageCommand
{
    public static CommandSpec Create() => new("image", "COMMAND", "Manage images")
    {
        Subcommands =
        [
            new CommandSpec("inspect", "[OPTIONS] IMAGE", "Show an image's digest, names, config and manifest as JSON")
            {
                MinArguments = 1,
                MaxArguments = 1,
                Options = [ImageStoreOption.Create()],
                Action = InspectAsync,
            },
        ],
    };

    private static async Task<int> InspectAsync(Invocation inspect, CancellationToken ct)
    {
        await using var store = await ImageStoreOption.OpenAsync(inspect, ct).ConfigureAwait(false);
        var found = await store.ResolveAsync(inspect.Arguments[0], ct).ConfigureAwait(false);
        Console.WriteLine(found.ToJson());
        return 0;
    }

}
