using Containers.Cli.CommandLine;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers push IMAGE [REF]</c>: pushes a stored image to a registry; prints the manifest digest.</summary>
internal static class PushCommand
{
    public static CommandSpec Create() => new("push", "[OPTIONS] IMAGE [REGISTRY/REPOSITORY[:TAG]]", "Push an image to a registry; prints the manifest digest")
    {
        MinArguments = 1,
        MaxArguments = 2,
        Options =
        [
            RegistryOptions.CaFile,
            RegistryOptions.Insecure,
            OptionSpec.Flag("quiet", 'q', "Show no progress; print only the manifest digest"),
            ImageStoreOption.Create(),
        ],
        Action = async (push, ct) =>
        {
            string source = push.Arguments[0];
            string? destination = push.Arguments.Count > 1 ? push.Arguments[1] : null;
            var targetName = ImageReference.Parse(destination ?? source);
            using var client = RegistryOptions.CreateClient(push, targetName.Registry);
            await using var store = await ImageStoreOption.OpenAsync(push, ct).ConfigureAwait(false);
            var digest = await TransferProgressDisplay.RunAsync(
                push.Has("quiet"),
                progress => client.PushAsync(store, source, destination, progress, ct)).ConfigureAwait(false);
            Console.WriteLine(digest);
            return 0;
        },
    };
}
