using System.CommandLine;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Cli.Commands;

/// <summary><c>containers import PATH [--tag NAME:TAG]</c>: imports an OCI layout, oci-archive or docker-archive.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "An OCI image layout directory, an oci-archive or a docker-archive (docker save) tar" };
        var tag = new Option<string?>("--tag", "-t") { Description = "Name the imported image NAME:TAG" };
        var platform = new Option<string?>("--platform") { Description = "The platform to import from a multi-platform image, os/arch[/variant] (default: this host's)" };
        var root = ImageStoreOption.Create();
        var command = new Command("import", "Import an image from an OCI layout, oci-archive or docker-archive; prints the image digest") { path, tag, platform, root };
        command.SetAction(async (parse, ct) =>
        {
            var options = new ImportOptions
            {
                Tag = parse.GetValue(tag) is { } name ? ImageReference.Parse(name) : null,
                Platform = parse.GetValue(platform) is { } chosen ? Platform.Parse(chosen) : null,
            };
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            var images = await ProgressDisplay.RunAsync(progress => store.ImportAsync(parse.GetValue(path)!, options, progress, ct)).ConfigureAwait(false);
            foreach (var image in images)
            {
                Console.WriteLine(image.Digest);
            }

            return 0;
        });
        return command;
    }
}
