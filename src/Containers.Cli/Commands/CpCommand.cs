using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-</c> and <c>containers cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH</c>:
/// copies files out of and into a container (a stopped one's root is mounted for the copy), never through a link out
/// of its root; <c>-</c> is a tar stream on stdout or stdin.
/// </summary>
internal static class CpCommand
{
    public static CommandSpec Create() => new("cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|- | SRC_PATH|- CONTAINER:DEST_PATH", "Copy files/folders between a container and the host")
    {
        MinArguments = 2,
        MaxArguments = 2,
        Options =
        [
            OptionSpec.Flag("archive", 'a', "Archive mode (copy all uid/gid information)"),
            OptionSpec.Flag("follow-link", 'L', "Always follow symbol link in SRC_PATH"),
            ImageStoreOption.Create(),
        ],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation cp, CancellationToken cancellationToken)
    {
        var (source, destination) = (cp.Arguments[0], cp.Arguments[1]);
        var from = Split(source);
        var to = Split(destination);
        if ((from is null) == (to is null))
        {
            throw new UsageException("name exactly one side as CONTAINER:PATH, the other as a host path or '-' (a tar stream)", cp.Path);
        }

        var options = new ContainerCopyOptions { KeepOwners = cp.Has("archive"), FollowLink = cp.Has("follow-link") };

        // The store holds a stopped container's image layers, which its root is mounted from for the copy.
        await using var store = await ImageStoreOption.OpenAsync(cp, cancellationToken).ConfigureAwait(false);
        await using var runtime = await ContainerRuntime.OpenAsync(ContainerRequest.OneStart with { Images = store }, cancellationToken).ConfigureAwait(false);
        var (id, path) = from ?? to!.Value;
        var container = await runtime.GetAsync(id, cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            switch ((from is not null, from is not null ? destination : source))
            {
                case (true, "-"):
                    await using (var stdout = Console.OpenStandardOutput())
                    {
                        await container.CopyArchiveFromAsync(path, stdout, options, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                case (true, _):
                    await container.CopyFromAsync(path, destination, options, cancellationToken).ConfigureAwait(false);
                    break;
                case (false, "-"):
                    await using (var stdin = Console.OpenStandardInput())
                    {
                        await container.CopyArchiveToAsync(stdin, path, options, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                default:
                    await container.CopyToAsync(source, path, options, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        return 0;
    }

    /// <summary>CONTAINER:PATH as Docker reads it: a colon before any '/' (a host path with a colon starts with '/' or './').</summary>
    private static (string Id, string Path)? Split(string argument)
    {
        var colon = argument.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || argument.IndexOf('/', StringComparison.Ordinal) is var slash && slash >= 0 && slash < colon)
        {
            return null;
        }

        var path = argument[(colon + 1)..];
        return (argument[..colon], path.Length == 0 ? "/" : path);
    }
}
