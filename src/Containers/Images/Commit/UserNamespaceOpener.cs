using System.Text;
using Containers.Linux;
using Containers.Spec;
using Microsoft.Win32.SafeHandles;

namespace Containers.Images.Commit;

/// <summary>
/// Opens entries of an upper directory that the caller cannot open on the host, from a child in a new user namespace
/// with the container's id mappings. A rootless container's users own their files under subordinate ids, and its
/// root may make a file mode 000: on the host the caller has no right to read either, but the namespace's root has
/// <c>CAP_DAC_OVERRIDE</c> over every inode whose owner the namespace maps. The child resolves each path beneath the
/// upper directory without following links (<c>openat2</c> <c>RESOLVE_IN_ROOT</c>), opens a regular file or
/// directory for reading, anything else as <c>O_PATH</c>, and sends the fds back; the caller reads through them.
/// One child opens a batch; nothing is executed in it.
/// </summary>
internal sealed class UserNamespaceOpener
{
    private readonly string _upperDirectory;
    private readonly IdMapRange[] _uids;
    private readonly IdMapRange[] _gids;

    /// <param name="upperDirectory">The upper directory the paths are relative to.</param>
    /// <param name="uidMappings">The container's uid mappings; none: the caller as 0 only.</param>
    /// <param name="gidMappings">The container's gid mappings; none: the caller's group as 0 only.</param>
    public UserNamespaceOpener(string upperDirectory, IReadOnlyList<LinuxIdMapping>? uidMappings, IReadOnlyList<LinuxIdMapping>? gidMappings)
    {
        _upperDirectory = upperDirectory;
        _uids = Ranges(uidMappings, LibC.geteuid());
        _gids = Ranges(gidMappings, LibC.getegid());
    }

    /// <summary>Children launched so far.</summary>
    public int Launches { get; private set; }

    /// <summary>Opens <paramref name="paths"/> (relative to the upper directory), in order; the caller owns the fds.</summary>
    /// <exception cref="ImageCommitException">A path cannot be opened in the namespace either (named), or the namespace cannot be made.</exception>
    public SafeFileHandle[] Open(IReadOnlyList<byte[]> paths, CancellationToken cancellationToken)
    {
        var builder = new PlanBuilder(CloneFlags.NewUser);
        var socket = builder.ImportFd();
        builder.WaitForParent("wait for the user namespace's maps").Root(_upperDirectory, $"open the upper directory {_upperDirectory}");
        foreach (var path in paths)
        {
            builder.OpenAndSend(Decode(path), socket, "/" + Encoding.UTF8.GetString(path));
        }

        var plan = builder.Build();
        var (parentEnd, childEnd) = LibC.SocketPair();
        var fds = new List<SafeFileHandle>(paths.Count);
        try
        {
            using (parentEnd)
            {
                ChildProcess child;
                using (childEnd)
                {
                    child = ChildProcess.Launch(plan, [childEnd]);
                }

                Launches++;
                try
                {
                    RunAsync(child, parentEnd, paths.Count, fds, cancellationToken).GetAwaiter().GetResult();
                }
                finally
                {
                    child.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
            }

            return [.. fds];
        }
        catch
        {
            fds.ForEach(f => f.Dispose());
            throw;
        }
    }

    private async Task RunAsync(ChildProcess child, SafeFileHandle socket, int count, List<SafeFileHandle> fds, CancellationToken cancellationToken)
    {
        try
        {
            await UserNamespaceMaps.WriteAsync(child.Pid, _uids, _gids, cancellationToken).ConfigureAwait(false);
        }
        catch (ContainersException e)
        {
            throw new ImageCommitException($"cannot read the upper directory's unreadable files in a user namespace with the container's mappings: {e.Message}", e);
        }

        child.Continue();
        try
        {
            while (fds.Count < count)
            {
                fds.Add(await ChildProcess.ReceiveFdAsync(socket, cancellationToken).ConfigureAwait(false));
            }
        }
        catch (ContainersException) when (fds.Count < count)
        {
            // The child stopped sending: it failed an op, which the error pipe names below.
        }

        try
        {
            await child.WaitForExecAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ContainerStartException e)
        {
            throw e.ErrnoName is "ENOENT" or "ELOOP" or "ENOTDIR"
                ? new ImageCommitException($"{e.Stage} changed while it was committed ({e.ErrnoName}); stop or pause the container first", e)
                : new ImageCommitException($"cannot open {e.Stage} in the upper directory, even in a user namespace with the container's mappings: {e.ErrnoName}", e);
        }

        await child.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (fds.Count < count)
        {
            throw new ImageCommitException($"the user namespace's child sent {fds.Count} of {count} fds of the upper directory's entries");
        }
    }

    private static string Decode(byte[] path)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(path);
        }
        catch (DecoderFallbackException e)
        {
            throw new ImageCommitException($"/{Encoding.UTF8.GetString(path)} cannot be read by this user and its name is not UTF-8, which the reading in a user namespace needs: commit as root", e);
        }
    }

    private static IdMapRange[] Ranges(IReadOnlyList<LinuxIdMapping>? mappings, uint own) =>
        mappings is { Count: > 0 } ? [.. mappings.Select(m => new IdMapRange(m.ContainerId, m.HostId, m.Size))] : [new IdMapRange(0, own, 1)];
}
