using Containers.Cli.CommandLine;
using Containers.Images;

namespace Containers.Cli.Commands;

/// <summary><c>containers export IMAGE PATH [--format FORMAT]</c>: writes an image as an OCI layout, oci-archive or docker-archive.</summary>
internal static class ExportCommand
{
    public static CommandSpec Create() => new("export", "[OPTIONS] IMAGE PATH", "Write an image as an OCI layout, oci-archive or docker-archive")
    {
        MinArguments = 2,
        MaxArguments = 2,
        Options =
        [
            OptionSpec.Value("format", 'f', "string", "oci, oci-archive (the default) or docker-archive"),
            ProgressDisplay.QuietOption,
            ImageStoreOption.Create(),
        ],
        Action = async (export, ct) =>
        {
            var chosen = export.Value("format") switch
            {
                "oci" => ImageArchiveFormat.OciLayout,
                "docker-archive" => ImageArchiveFormat.DockerArchive,
                null or "oci-archive" => ImageArchiveFormat.OciArchive,
                var other => throw new UsageException($"--format '{other}' is not supported: use oci, oci-archive or docker-archive", export.Path),
            };
            await using var store = await ImageStoreOption.OpenAsync(export, ct).ConfigureAwait(false);
            await ProgressDisplay.RunAsync(export.Has("quiet"), async progress =>
            {
                await store.ExportAsync(export.Arguments[0], export.Arguments[1], chosen, progress, ct).ConfigureAwait(false);
                return 0;
            }).ConfigureAwait(false);
            return 0;
        },
    };
}
