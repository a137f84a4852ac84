using System.Runtime.InteropServices;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;

namespace Containers.Runtime;

/// <summary>Copying files into and out of a container (<c>docker cp</c>).</summary>
public sealed partial class Container
{
    /// <summary>
    /// Copies the host file, directory (recursively) or link <paramref name="hostPath"/> into the container: into
    /// <paramref name="containerPath"/> when that is a directory, otherwise as it (its parent must exist). The path
    /// inside is resolved as the container would resolve it, beneath its root, and nothing is ever reached through a
    /// link out of it, also while the container swaps its directories for links (CVE-2018-15664). Modes and times
    /// are kept; what is made belongs to the container's root. All or nothing: a copy that fails or is canceled
    /// removes what it made and puts back what it replaced. Devices, fifos and sockets are not copied (logged).
    /// A directory named with a last component <c>.</c> (<c>./site/.</c>) has its contents copied into
    /// <paramref name="containerPath"/> (made when missing), not itself, as <c>docker cp</c> does.
    /// A stopped container's root (its image's layers and its writable layer, with its volumes) is mounted for the
    /// copy by a process that runs nothing of it, and unmounted after.
    /// </summary>
    /// <param name="hostPath">A host path; a link is copied as a link (its target with <see cref="ContainerCopyOptions.FollowLink"/>).</param>
    /// <param name="containerPath">A path inside the container.</param>
    /// <param name="options">Whether to follow a source link and keep owners; null for neither.</param>
    /// <param name="cancellationToken">Stops the copy between entries; what it made is removed.</param>
    /// <exception cref="ContainerStatusException">The container is stopped and has no root of its own on disk (it was not made from an image or with a copy-on-write root).</exception>
    /// <exception cref="ContainersIOException">A path cannot be read or made; the message names it and the errno.</exception>
    /// <exception cref="ContainerPidNamespaceException">The container runs and its owner is in another pid namespace.</exception>
    /// <example>
    /// <code>
    /// await container.CopyToAsync("./config", "/etc/app", cancellationToken: ct); // /etc/app/config when /etc/app is a directory
    /// await container.CopyToAsync("./site/.", "/srv/www", cancellationToken: ct); // the files of ./site in /srv/www
    /// </code>
    /// </example>
    public Task CopyToAsync(string hostPath, string containerPath, ContainerCopyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPath);
        ArgumentException.ThrowIfNullOrEmpty(containerPath);
        options ??= new ContainerCopyOptions();

        // A last '.' asks for the directory's contents; GetFullPath would drop it.
        var contents = hostPath == "." || hostPath.EndsWith("/.", StringComparison.Ordinal);
        hostPath = Path.GetFullPath(hostPath);
        hostPath = contents ? hostPath.TrimEnd('/') + "/." : hostPath;
        return WithRootAsync("copy into", (root, userNamespace) =>
        {
            using var host = DirectoryTree.OpenDirectory("/");
            using var copy = new ContainerCopy(OwnersIn(options), options.FollowLink, destinationNamespace: userNamespace);
            copy.Copy(host, hostPath, root, containerPath, cancellationToken);
            return (copy.Skipped, hostPath);
        }, cancellationToken);
    }

    /// <summary>
    /// Copies <paramref name="containerPath"/> (a file, a directory recursively, or a link as a link) out of the
    /// container to <paramref name="hostPath"/>: into it when it is a directory, otherwise as it. Resolved beneath
    /// the container's root as <see cref="CopyToAsync"/> does; a link inside the copied tree is copied, never
    /// followed, on either side. Modes and times are kept; the copies belong to the calling user. All or nothing, as
    /// a copy in.
    /// </summary>
    /// <param name="containerPath">A path inside the container.</param>
    /// <param name="hostPath">A host path.</param>
    /// <param name="options">Whether to follow a source link and keep owners; null for neither.</param>
    /// <param name="cancellationToken">Stops the copy between entries.</param>
    /// <exception cref="ContainerStatusException">The container is stopped and has no root of its own on disk.</exception>
    /// <exception cref="ContainersIOException">A path cannot be read or made.</exception>
    /// <exception cref="ContainerPidNamespaceException">The container runs and its owner is in another pid namespace.</exception>
    /// <example>
    /// <code>
    /// await container.CopyFromAsync("/var/log/app", "./logs", cancellationToken: ct);
    /// </code>
    /// </example>
    public Task CopyFromAsync(string containerPath, string hostPath, ContainerCopyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPath);
        ArgumentException.ThrowIfNullOrEmpty(containerPath);
        options ??= new ContainerCopyOptions();
        hostPath = Path.GetFullPath(hostPath);
        return WithRootAsync("copy from", (root, userNamespace) =>
        {
            using var host = DirectoryTree.OpenDirectory("/");
            using var copy = new ContainerCopy(options.KeepOwners ? (uid, gid) => ToContainerIds(uid, gid) : null, options.FollowLink, sourceNamespace: userNamespace);
            copy.Copy(root, containerPath, host, hostPath, cancellationToken);
            return (copy.Skipped, containerPath);
        }, cancellationToken);
    }

    /// <summary>
    /// Extracts the tar stream <paramref name="archive"/> into the directory <paramref name="containerPath"/> of the
    /// container (<c>docker cp - CONTAINER:DIR</c>): files, directories, links and hard links with their modes and
    /// times. No entry leaves that directory: <c>..</c> is refused and every entry's parent is resolved beneath it,
    /// so a link the archive made earlier cannot lead a later entry out. Owners as <see cref="CopyToAsync(string, string, ContainerCopyOptions?, CancellationToken)"/>
    /// gives them (the archive's ids with <see cref="ContainerCopyOptions.KeepOwners"/>).
    /// </summary>
    /// <param name="archive">A tar stream (ustar, pax or GNU), read to its end.</param>
    /// <param name="containerPath">An existing directory inside the container.</param>
    /// <param name="options">Whether to keep the archive's owners; null for the container's root.</param>
    /// <param name="cancellationToken">Stops the extraction between entries; what it made is removed.</param>
    /// <exception cref="ContainerStatusException">The container is stopped and has no root of its own on disk.</exception>
    /// <exception cref="ContainersIOException">An entry cannot be made, climbs out with <c>..</c>, or the destination is not a directory.</exception>
    /// <exception cref="ContainerPidNamespaceException">The container runs and its owner is in another pid namespace.</exception>
    /// <example>
    /// <code>
    /// await using var tar = File.OpenRead("site.tar");
    /// await container.CopyArchiveToAsync(tar, "/srv/www", cancellationToken: ct);
    /// </code>
    /// </example>
    public Task CopyArchiveToAsync(Stream archive, string containerPath, ContainerCopyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentException.ThrowIfNullOrEmpty(containerPath);
        options ??= new ContainerCopyOptions();
        return WithRootAsync("copy into", (root, userNamespace) =>
        {
            using var copy = new ContainerCopy(OwnersIn(options), destinationNamespace: userNamespace);
            copy.ExtractArchive(archive, root, containerPath, cancellationToken);
            return (copy.Skipped, "the archive");
        }, cancellationToken);
    }

    /// <summary>
    /// Writes <paramref name="containerPath"/> (a file, a directory recursively, or a link as a link) to
    /// <paramref name="archive"/> as a tar stream (pax) whose top entry is the path's last name
    /// (<c>docker cp CONTAINER:PATH -</c>), with modes, times and the owners the files have inside the container.
    /// </summary>
    /// <param name="containerPath">A path inside the container.</param>
    /// <param name="archive">Where the tar stream goes; left open.</param>
    /// <param name="options">Whether to follow a link named as <paramref name="containerPath"/>; null for not.</param>
    /// <param name="cancellationToken">Stops the copy between entries.</param>
    /// <exception cref="ContainerStatusException">The container is stopped and has no root of its own on disk.</exception>
    /// <exception cref="ContainersIOException">A path cannot be read.</exception>
    /// <exception cref="ContainerPidNamespaceException">The container runs and its owner is in another pid namespace.</exception>
    /// <example>
    /// <code>
    /// await using var tar = File.Create("logs.tar");
    /// await container.CopyArchiveFromAsync("/var/log/app", tar, cancellationToken: ct);
    /// </code>
    /// </example>
    public Task CopyArchiveFromAsync(string containerPath, Stream archive, ContainerCopyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentException.ThrowIfNullOrEmpty(containerPath);
        options ??= new ContainerCopyOptions();
        return WithRootAsync("copy from", (root, userNamespace) =>
        {
            using var copy = new ContainerCopy(null, options.FollowLink, sourceNamespace: userNamespace);
            copy.WriteArchive(root, containerPath, archive, ToContainerIds, cancellationToken);
            return (copy.Skipped, containerPath);
        }, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="copy"/> on an fd of the container's root: its process's, or, when it is stopped, that of
    /// a process that mounts its root and runs nothing (<see cref="StoppedRoot"/>). Without root the copy also gets
    /// that process's user namespace, to read and give owners there what the caller may not on the host. What the
    /// copy skipped is logged.
    /// </summary>
    private async Task WithRootAsync(string operation, Func<SafeFileHandle, ContainerUserNamespace?, (int Skipped, string Source)> copy, CancellationToken cancellationToken)
    {
        var state = State;
        (int Skipped, string Source) done;
        ThrowIfUnobservable(Status, operation);
        if (Status.CanKill() && state.Pid > 0)
        {
            try
            {
                done = await Task.Run(() => CopyIn(new ProcessIdentity(state.Pid, state.PidStartTime), operation, copy), cancellationToken).ConfigureAwait(false);
                Log(done);
                return;
            }
            catch (ContainerStatusException) when (Status == ContainerStatus.Stopped && State.ContainerDirectory is not null)
            {
                // It stopped before its root was opened: copy as with any stopped container.
            }
        }

        var stopped = await MountStoppedRootAsync(operation, cancellationToken).ConfigureAwait(false);
        await using (stopped.ConfigureAwait(false))
        {
            done = await Task.Run(() => CopyIn(stopped.Holder, operation, copy), cancellationToken).ConfigureAwait(false);
        }

        Log(done);

        void Log((int Skipped, string Source) result)
        {
            if (result.Skipped > 0)
            {
                RuntimeLog.CopySkipped(_logger, Id, result.Skipped, result.Source);
            }
        }
    }

    private (int Skipped, string Source) CopyIn(ProcessIdentity process, string operation, Func<SafeFileHandle, ContainerUserNamespace?, (int Skipped, string Source)> copy)
    {
        using var root = OpenRoot(process, operation);
        var state = State;
        using var userNamespace = Environment.IsPrivilegedProcess ? null : ContainerUserNamespace.Open(process, Id, operation, state.UidMappings, state.GidMappings);
        try
        {
            return copy(root, userNamespace);
        }
        finally
        {
            if (userNamespace is { Launches: > 0 })
            {
                RuntimeLog.CopyInUserNamespace(_logger, Id, userNamespace.Launches);
            }
        }
    }

    /// <summary>The root of this stopped container, mounted by a process that runs nothing (<see cref="StoppedRoot"/>).</summary>
    private async Task<StoppedRoot> MountStoppedRootAsync(string operation, CancellationToken cancellationToken)
    {
        var state = State;
        if (_runtime is null || state.ContainerDirectory is null || state.LowerDirectories is null)
        {
            throw new ContainerStatusException(Id, operation, Status,
                "its root is mounted only while its process runs, and it keeps no root of its own on disk (it was not made from an image or with a copy-on-write root): start it");
        }

        var store = state.Image is null ? null : await _runtime.ImagesAsync(cancellationToken).ConfigureAwait(false);
        return await StoppedRoot.MountAsync(_runtime, Id, state, Spec, store, operation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An fd of the root of <paramref name="process"/> (the container's, or the holder of a stopped one's) as it sees
    /// it, its mounts included, through <c>/proc/PID/root</c>, checked after opening to belong to that process and
    /// not to one that reused its pid.
    /// </summary>
    private unsafe SafeFileHandle OpenRoot(ProcessIdentity process, string operation)
    {
        SafeFileHandle root;
        fixed (byte* p = DirectoryTree.NulTerminated($"/proc/{process.Pid}/root"))
        {
            root = FileSystemCalls.Openat(new SafeFileHandle(FileSystemCalls.AtFdCwd, ownsHandle: false), p, FileSystemCalls.OPath | FileSystemCalls.ODirectory | FileSystemCalls.OCloExec, 0);
        }

        var errno = Marshal.GetLastPInvokeError();
        if (root.IsInvalid || !process.IsAlive)
        {
            root.Dispose();
            throw root.IsInvalid && errno != Errno.ENOENT && errno != Errno.ESRCH
                ? new ContainersIOException($"cannot {operation} container '{Id}': opening /proc/{process.Pid}/root failed: {Errno.Name(errno)} ({Errno.Describe(errno)})", $"/proc/{process.Pid}/root", null)
                : new ContainerStatusException(Id, operation, ContainerStatus.Stopped, "its process has exited");
        }

        return root;
    }

    /// <summary>
    /// The owner (host ids) of what is copied in: the source's ids as ids inside the container (<c>-a</c>; null when
    /// the container maps no such ids), else the container's root; null (the caller's ids, which are the container's
    /// root) without privileges and without <c>-a</c>.
    /// </summary>
    private Func<uint, uint, (uint Uid, uint Gid)?>? OwnersIn(ContainerCopyOptions options)
    {
        var state = State;
        if (options.KeepOwners)
        {
            return (uid, gid) => ToHost(state.UidMappings, uid) is { } hostUid && ToHost(state.GidMappings, gid) is { } hostGid ? (hostUid, hostGid) : null;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return null;
        }

        (uint, uint)? root = (ToHost(state.UidMappings, 0) ?? OverflowId, ToHost(state.GidMappings, 0) ?? OverflowId);
        return (_, _) => root;
    }

    /// <summary>Host ids as the container sees them (through its user namespace's maps; the overflow id 65534 where none maps).</summary>
    private (uint Uid, uint Gid) ToContainerIds(uint uid, uint gid)
    {
        var state = State;
        return (ToContainer(state.UidMappings, uid), ToContainer(state.GidMappings, gid));
    }

    private const uint OverflowId = 65534;

    /// <summary>The host id of a container's id, or null when its mappings do not cover it.</summary>
    private static uint? ToHost(IReadOnlyList<Spec.LinuxIdMapping>? mappings, uint id) =>
        mappings is null or { Count: 0 } ? id
        : mappings.FirstOrDefault(m => id >= m.ContainerId && id - m.ContainerId < m.Size) is { } m ? m.HostId + (id - m.ContainerId) : null;

    private static uint ToContainer(IReadOnlyList<Spec.LinuxIdMapping>? mappings, uint id) =>
        mappings is null or { Count: 0 } ? id
        : mappings.FirstOrDefault(m => id >= m.HostId && id - m.HostId < m.Size) is { } m ? m.ContainerId + (id - m.HostId) : OverflowId;
}
