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
/// One child opens a batch; nothing is executed in it. <see cref="ForLayers"/> opens in an image's layers instead.
/// </summary>
internal sealed class UserNamespaceOpener
{
    private readonly string _root;
    private readonly IReadOnlyList<string>? _layers;
    private readonly string _what;
    private readonly IdMapRange[] _uids;
    private readonly IdMapRange[] _gids;

    /// <param name="upperDirectory">The upper directory the paths are relative to.</param>
    /// <param name="uidMappings">The container's uid mappings; none: the caller as 0 only.</param>
    /// <param name="gidMappings">The container's gid mappings; none: the caller's group as 0 only.</param>
    public UserNamespaceOpener(string upperDirectory, IReadOnlyList<LinuxIdMapping>? uidMappings, IReadOnlyList<LinuxIdMapping>? gidMappings)
        : this(upperDirectory, null, "the upper directory", Ranges(uidMappings, LibC.geteuid()), Ranges(gidMappings, LibC.getegid()))
    {
    }

    private UserNamespaceOpener(string root, IReadOnlyList<string>? layers, string what, IdMapRange[] uids, IdMapRange[] gids)
    {
        _root = root;
        _layers = layers;
        _what = what;
        _uids = uids;
        _gids = gids;
    }

    /// <summary>Children launched so far.</summary>
    public int Launches { get; private set; }

    /// <summary>
    /// Opens paths of the image that the snapshots <paramref name="topFirst"/> make, in a user namespace that maps the
    /// caller to 0 and <paramref name="subordinate"/> from 1 (how a rootless store gave the layers' owners): the
    /// child also makes a mount namespace and mounts the snapshots as one read-only overlay (<c>userxattr</c>), so a
    /// path resolves as in the image, whiteouts and opaque directories included.
    /// </summary>
    public static UserNamespaceOpener ForLayers(IReadOnlyList<string> topFirst, SubordinateIds subordinate) =>
        new(topFirst[0], topFirst.Count > 1 ? topFirst : null, "the image's layers", subordinate.UidMap(LibC.geteuid()), subordinate.GidMap(LibC.getegid()));

    /// <summary>Opens <paramref name="paths"/> (relative to the root), in order; the caller owns the fds.</summary>
    /// <exception cref="ImageCommitException">A path cannot be opened in the namespace either (named), or the namespace cannot be made.</exception>
    public SafeFileHandle[] Open(IReadOnlyList<byte[]> paths, CancellationToken cancellationToken) =>
        [.. Open(paths, missingOk: false, cancellationToken).Select(f => f!)];

    /// <summary>As <see cref="Open(IReadOnlyList{byte[]}, CancellationToken)"/>; a path that is not there gives null.</summary>
    public SafeFileHandle?[] OpenOrMissing(IReadOnlyList<byte[]> paths, CancellationToken cancellationToken) =>
        Open(paths, missingOk: true, cancellationToken);

    private SafeFileHandle?[] Open(IReadOnlyList<byte[]> paths, bool missingOk, CancellationToken cancellationToken)
    {
        var builder = new PlanBuilder(_layers is null ? CloneFlags.NewUser : CloneFlags.NewUser | CloneFlags.NewNs);
        var socket = builder.ImportFd();
        builder.WaitForParent("wait for the user namespace's maps");
        if (_layers is not null)
        {
            // Mounted over the top snapshot in the child's own mount namespace: the snapshots were named before.
            builder.MakePrivate()
                .FsMount("overlay", _root, [.. _layers.Select(l => "lowerdir+=" + l), "userxattr"], null, MountAttributes.ReadOnly,
                    $"mount the image's {_layers.Count} layers");
        }

        builder.Root(_root, $"open {_what} {_root}");
        foreach (var path in paths)
        {
            builder.OpenAndSend(Decode(path), socket, "/" + Encoding.UTF8.GetString(path), missingOk);
        }

        var plan = builder.Build();
        var (parentEnd, childEnd) = LibC.SocketPair();
        var fds = new List<SafeFileHandle?>(paths.Count);
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
            fds.ForEach(f => f?.Dispose());
            throw;
        }
    }

    private async Task RunAsync(ChildProcess child, SafeFileHandle socket, int count, List<SafeFileHandle?> fds, CancellationToken cancellationToken)
    {
        try
        {
            await UserNamespaceMaps.WriteAsync(child.Pid, _uids, _gids, cancellationToken).ConfigureAwait(false);
        }
        catch (ContainersException e)
        {
            throw new ImageCommitException($"cannot read the unreadable files of {_what} in a user namespace with the container's mappings: {e.Message}", e);
        }

        child.Continue();
        try
        {
            while (fds.Count < count)
            {
                fds.Add(await ChildProcess.ReceiveFdOrMissingAsync(socket, cancellationToken).ConfigureAwait(false));
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
                : new ImageCommitException($"cannot open {e.Stage} in {_what}, even in a user namespace with the container's mappings: {e.ErrnoName}", e);
        }

        await child.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (fds.Count < count)
        {
            throw new ImageCommitException($"the user namespace's child sent {fds.Count} of {count} fds of the entries of {_what}");
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
