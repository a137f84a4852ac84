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
    /// </summary>
    /// <param name="hostPath">A host path; a link is copied as a link.</param>
    /// <param name="containerPath">A path inside the container.</param>
    /// <param name="cancellationToken">Stops the copy between entries; what was copied stays.</param>
    /// <exception cref="ContainerStatusException">The container's process is gone (a stopped container's root is not mounted anywhere).</exception>
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
    /// <exception cref="ContainerStatusException">The container's process is gone.</exception>
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

    private Task CopyAsync(bool toContainer, string hostPath, string containerPath, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                using var root = OpenContainerRoot(toContainer ? "copy into" : "copy from");
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
            },
            cancellationToken);

    /// <summary>
    /// An fd of the container's root as its process sees it (its mounts included), through <c>/proc/PID/root</c>,
    /// checked after opening to belong to the container's process and not to one that reused its pid.
    /// </summary>
    private unsafe SafeFileHandle OpenContainerRoot(string operation)
    {
        var state = State;
        var status = Status;
        if (!status.CanKill() || state.Pid <= 0)
        {
            throw new ContainerStatusException(Id, operation, status, "its root is mounted only while its process runs: start it (or copy from a container of a committed image)");
        }

        SafeFileHandle root;
        fixed (byte* p = DirectoryTree.NulTerminated($"/proc/{state.Pid}/root"))
        {
            root = FileSystemCalls.Openat(new SafeFileHandle(FileSystemCalls.AtFdCwd, ownsHandle: false), p, FileSystemCalls.OPath | FileSystemCalls.ODirectory | FileSystemCalls.OCloExec, 0);
        }

        var errno = Marshal.GetLastPInvokeError();
        if (root.IsInvalid || !new ProcessIdentity(state.Pid, state.PidStartTime).IsAlive)
        {
            root.Dispose();
            throw root.IsInvalid && errno != Errno.ENOENT && errno != Errno.ESRCH
                ? new ContainersIOException($"cannot {operation} container '{Id}': opening /proc/{state.Pid}/root failed: {Errno.Name(errno)} ({Errno.Describe(errno)})", $"/proc/{state.Pid}/root", null)
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
