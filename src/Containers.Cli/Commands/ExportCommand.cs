using System.CommandLine;
using Containers.Images;

namespace Containers.Cli.Commands;

/// <summary><c>containers export IMAGE PATH [--format oci|oci-archive|docker-archive]</c>.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "A name, a digest or a unique digest prefix" };
        var path = new Argument<string>("PATH") { Description = "The output directory (oci) or file (oci-archive, docker-archive)" };
        var format = new Option<string>("--format", "-f") { Description = "oci, oci-archive or docker-archive", DefaultValueFactory = _ => "oci-archive" };
        format.AcceptOnlyFromAmong("oci", "oci-archive", "docker-archive");
        var root = ImageStoreOption.Create();
        var command = new Command("export", "Write an image as an OCI layout, oci-archive or docker-archive") { image, path, format, root };
        command.SetAction(async (parse, ct) =>
        {
            var chosen = parse.GetValue(format) switch
            {
                "oci" => ImageArchiveFormat.OciLayout,
                "docker-archive" => ImageArchiveFormat.DockerArchive,
                _ => ImageArchiveFormat.OciArchive,
            };
            await using var store = await ImageStoreOption.OpenAsync(parse, root, ct).ConfigureAwait(false);
            await ProgressDisplay.RunAsync(async progress =>
            {
                await store.ExportAsync(parse.GetValue(image)!, parse.GetValue(path)!, chosen, progress, ct).ConfigureAwait(false);
                return 0;
            }).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
