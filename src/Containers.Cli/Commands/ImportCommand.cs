using Containers.Cli.CommandLine;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers import PATH [--tag NAME:TAG]</c>: imports an OCI layout, oci-archive or docker-archive; prints the digests.</summary>
internal static class ImportCommand
{
    public static CommandSpec Create() => new("import", "[OPTIONS] PATH", "Import an image from an OCI layout, oci-archive or docker-archive; prints the image digest")
    {
        MinArguments = 1,
        MaxArguments = 1,
        Options =
        [
            OptionSpec.Value("platform", null, "string", "The platform to import from a multi-platform image, os/arch[/variant] (default: this host's)"),
            ProgressDisplay.QuietOption,
            ImageStoreOption.Create(),
            OptionSpec.Value("tag", 't', "string", "Name the imported image NAME:TAG"),
        ],
        Action = async (import, ct) =>
        {
            var options = new ImportOptions
            {
                Tag = import.Value("tag") is { } name ? ImageReference.Parse(name) : null,
                Platform = import.Value("platform") is { } chosen ? Platform.Parse(chosen) : null,
            };
            await using var store = await ImageStoreOption.OpenAsync(import, ct).ConfigureAwait(false);
            var images = await ProgressDisplay.RunAsync(import.Has("quiet"), progress => store.ImportAsync(import.Arguments[0], options, progress, ct)).ConfigureAwait(false);
            foreach (var image in images)
            {
                Console.WriteLine(image.Digest);
            }

            return 0;
        },
    };
}
