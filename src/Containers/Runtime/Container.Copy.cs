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
    /// are kept; what is made belongs to the container's root. Devices, fifos and sockets are not copied (logged).
    /// A stopped container's root (its image's layers and its writable layer, with its volumes) is mounted for the
    /// copy by a process that runs nothing of it, and unmounted after.
    /// </summary>
    /// <param name="hostPath">A host path; a link is copied as a link.</param>
    /// <param name="containerPath">A path inside the container.</param>
    /// <param name="cancellationToken">Stops the copy between entries; what was copied stays.</param>
    /// <exception cref="ContainerStatusException">The container is stopped and has no root of its own on disk (it was not made from an image or with a copy-on-write root).</exception>
    /// <exception cref="ContainersIOException">A path cannot be read or made; the message names it and the errno.</exception>
    /// <example>
    /// <code>
    /// await container.CopyToAsync("./config", "/etc/app", ct);   // /etc/app/config when /etc/app is a directory
    /// </code>
    /// </example>
    public Task CopyToAsync(string hostPath, string containerPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPath);
        ArgumentException.ThrowIfNullOrEmpty(containerPath);
        return CopyAsync(toContainer: true, Path.GetFullPath(hostPath), containerPath, cancellationToken);
    }

    /// <summary>
    /// Copies <paramref name="containerPath"/> (a file, a directory recursively, or a link as a link) out of the
    /// container to <paramref name="hostPath"/>: into it when it is a directory, otherwise as it. Resolved beneath
    /// the container's root as <see cref="CopyToAsync"/> does; a link inside the copied tree is copied, never
    /// followed, on either side. Modes and times are kept; the copies belong to the calling user.
    /// </summary>
    /// <param name="containerPath">A path inside the container.</param>
    /// <param name="hostPath">A host path.</param>
    /// <param name="cancellationToken">Stops the copy between entries.</param>
    /// <exception cref="ContainerStatusException">The container is stopped and has no root of its own on disk.</exception>
    /// <exception cref="ContainersIOException">A path cannot be read or made.</exception>
    /// <example>
    /// <code>
    /// await container.CopyFromAsync("/var/log/app", "./logs", ct);
    /// </code>
    /// </example>
    public Task CopyFromAsync(string containerPath, string hostPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPath);
        ArgumentException.ThrowIfNullOrEmpty(containerPath);
        return CopyAsync(toContainer: false, Path.GetFullPath(hostPath), containerPath, cancellationToken);
    }

    private async Task CopyAsync(bool toContainer, string hostPath, string containerPath, CancellationToken cancellationToken)
    {
        var operation = toContainer ? "copy into" : "copy from";
        var state = State;
        if (Status.CanKill() && state.Pid > 0)
        {
            try
            {
                await Task.Run(() => Copy(new ProcessIdentity(state.Pid, state.PidStartTime), operation, toContainer, hostPath, containerPath, cancellationToken), cancellationToken)
                    .ConfigureAwait(false);
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
            await Task.Run(() => Copy(stopped.Holder, operation, toContainer, hostPath, containerPath, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
    }

    private void Copy(ProcessIdentity process, string operation, bool toContainer, string hostPath, string containerPath, CancellationToken cancellationToken)
    {
        using var root = OpenRoot(process, operation);
        using var host = DirectoryTree.OpenDirectory("/");
        var copy = new ContainerCopy(toContainer ? ContainerRootOwner() : null);
        if (toContainer)
        {
            copy.Copy(host, hostPath, root, containerPath, cancellationToken);
        }
        else
        {
            copy.Copy(root, containerPath, host, hostPath, cancellationToken);
        }

        if (copy.Skipped > 0)
        {
            RuntimeLog.CopySkipped(_logger, Id, copy.Skipped, toContainer ? hostPath : containerPath);
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

    /// <summary>The host ids of the container's root, given to what a privileged copy makes; null (the caller's ids, which are the container's root) without privileges.</summary>
    private (uint Uid, uint Gid)? ContainerRootOwner()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return null;
        }

        var state = State;
        static uint HostId(IReadOnlyList<Spec.LinuxIdMapping>? mappings) =>
            mappings?.FirstOrDefault(m => m.ContainerId == 0) is { } root ? root.HostId : 0;
        return (HostId(state.UidMappings), HostId(state.GidMappings));
    }
}
