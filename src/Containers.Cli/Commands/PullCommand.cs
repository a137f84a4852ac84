using Containers.Cli.CommandLine;
using Containers.Distribution;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers pull REF</c>: pulls an image from a registry into the image store; prints the image digest.</summary>
internal static class PullCommand
{
    public static CommandSpec Create() => new("pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Pull an image from a registry into the image store; prints the image digest")
    {
        MinArguments = 1,
        MaxArguments = 1,
        Options =
        [
            RegistryOptions.CaFile,
            RegistryOptions.Insecure,
            OptionSpec.Value("platform", null, "string", "The platform to pull from a multi-platform image, os/arch[/variant] (default: this host's)"),
            OptionSpec.Flag("quiet", 'q', "Show no progress; print only the image digest"),
            ImageStoreOption.Create(),
        ],
        Action = async (pull, ct) =>
        {
            var name = ImageReference.Parse(pull.Arguments[0]);
            var options = new PullOptions { Platform = pull.Value("platform") is { } chosen ? Platform.Parse(chosen) : null };
            using var client = RegistryOptions.CreateClient(pull, name.Registry);
            await using var store = await ImageStoreOption.OpenAsync(pull, ct).ConfigureAwait(false);
            var image = await TransferProgressDisplay.RunAsync(
                pull.Has("quiet"),
                progress => client.PullAsync(store, name.ToString(), options, progress, ct)).ConfigureAwait(false);
            Console.WriteLine(image.Digest);
            return 0;
        },
    };
}
