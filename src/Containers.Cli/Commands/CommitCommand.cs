using Containers.Cli.CommandLine;
using Containers.Images;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]</c>: makes a new image of a container's changes, with
/// the config it runs with, and prints the new image's id. A running container is frozen while its files are read
/// when it has a cgroup (<c>--pause=true</c> requires it, <c>--pause=false</c> never freezes).
/// </summary>
internal static class CommitCommand
{
    public static CommandSpec Create() => new("commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes")
    {
        MinArguments = 1,
        MaxArguments = 2,
        Options =
        [
            OptionSpec.Value("author", 'a', "string", "Author (e.g., \"Ada <ada@example.com>\")"),
            OptionSpec.Value("message", 'm', "string", "Commit message"),
            OptionSpec.Flag("pause", 'p', "Freeze the container while it is committed (default: when it has a cgroup)"),
            OptionSpec.Value("compression", null, "string", "Layer compression: gzip (default) or zstd"),
            ProgressDisplay.QuietOption,
            ImageStoreOption.Create(),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation commit, CancellationToken cancellationToken)
    {
        var compression = commit.Value("compression") switch
        {
            null or "gzip" => LayerCompressionFormat.Gzip,
            "zstd" => LayerCompressionFormat.Zstd,
            var other => throw new UsageException($"--compression {other}: choose gzip or zstd", commit.Path),
        };
        await using var store = await ImageStoreOption.OpenAsync(commit, cancellationToken).ConfigureAwait(false);
        await using var runtime = await ContainerRuntime.OpenAsync(ContainerRequest.OneStart with { Images = store }, cancellationToken).ConfigureAwait(false);
        var container = await runtime.GetAsync(commit.Arguments[0], cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            bool? pause = commit.Value("pause") is null ? null : commit.Has("pause");
            var options = new CommitOptions { Author = commit.Value("author"), Message = commit.Value("message"), Compression = compression };
            var tag = commit.Arguments.Count > 1 ? commit.Arguments[1] : null;
            var image = await ProgressDisplay.RunAsync(commit.Has("quiet"), progress => container.CommitAsync(tag, options, pause, progress, cancellationToken)).ConfigureAwait(false);
            Console.WriteLine(image.Digest.ToString());
        }

        return 0;
    }
}
