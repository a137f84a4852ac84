using Containers.Cli.CommandLine;
using Containers.Runtime;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>containers cp CONTAINER:SRC_PATH DEST_PATH</c> and <c>containers cp SRC_PATH CONTAINER:DEST_PATH</c>: copies
/// files out of and into a container (a stopped one's root is mounted for the copy), never through a link out of its root.
/// </summary>
internal static class CpCommand
{
    public static CommandSpec Create() => new("cp", "CONTAINER:SRC_PATH DEST_PATH | SRC_PATH CONTAINER:DEST_PATH", "Copy files/folders between a container and the host")
    {
        MinArguments = 2,
        MaxArguments = 2,
        Options = [ImageStoreOption.Create()],
        Action = RunAsync,
    };

    private static async Task<int> RunAsync(Invocation cp, CancellationToken cancellationToken)
    {
        var (source, destination) = (cp.Arguments[0], cp.Arguments[1]);
        if (source == "-" || destination == "-")
        {
            throw new UsageException("copying a tar stream ('-') is not supported: give a host path", cp.Path);
        }

        var from = Split(source);
        var to = Split(destination);
        if ((from is null) == (to is null))
        {
            throw new UsageException("name exactly one side as CONTAINER:PATH, the other as a host path", cp.Path);
        }

        // The store holds a stopped container's image layers, which its root is mounted from for the copy.
        await using var store = await ImageStoreOption.OpenAsync(cp, cancellationToken).ConfigureAwait(false);
        await using var runtime = await ContainerRuntime.OpenAsync(ContainerRequest.OneStart with { Images = store }, cancellationToken).ConfigureAwait(false);
        var (id, path) = from ?? to!.Value;
        var container = await runtime.GetAsync(id, cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            if (from is not null)
            {
                await container.CopyFromAsync(path, destination, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await container.CopyToAsync(source, path, cancellationToken).ConfigureAwait(false);
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
