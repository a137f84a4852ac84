using Containers.Linux;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>
/// The root of a stopped container made on an overlay, mounted again so files can be copied in and out as
/// <c>docker cp</c> does with a container that is not running. A child of the shim makes a mount namespace (and the
/// container's user namespace, rootless), mounts the overlay of the container's lower directories and its own
/// upper directory with the container's bind mounts (its volumes), <c>pivot_root</c>s into it, and waits; it never
/// runs a program (its plan has no exec). The copy then goes through <c>/proc/PID/root</c> exactly as for a running
/// container. Nothing else is mounted: no <c>/proc</c>, <c>/dev</c> or tmpfs (a copy into one lands in the writable
/// layer, as with Docker), no secrets. A lock file in the container's directory keeps two such mounts of one upper
/// directory from existing at once (overlayfs does not allow it).
/// </summary>
internal sealed class StoppedRoot : IAsyncDisposable
{
    private readonly DirectoryLock _lock;
    private readonly ContainerProcess _holder;

    private StoppedRoot(DirectoryLock held, ContainerProcess holder)
    {
        _lock = held;
        _holder = holder;
    }

    /// <summary>The process holding the root: its <c>/proc/PID/root</c> is the container's root.</summary>
    public ProcessIdentity Holder => new(_holder.Pid, _holder.StartTime);

    /// <summary>Mounts the root of the stopped container <paramref name="id"/>; <paramref name="store"/> is its image's store, or null for a directory of its own.</summary>
    /// <exception cref="ContainerStatusException">The container has no root of its own on disk (not made on an overlay, or removed).</exception>
    /// <exception cref="ContainerStartException">Mounting failed in the child; it names the step and errno.</exception>
    public static async Task<StoppedRoot> MountAsync(
        ContainerRuntime runtime, string id, ContainerState state, ContainerSpec spec, Containers.Images.ImageStore? store, string operation, CancellationToken cancellationToken)
    {
        if (state.ContainerDirectory is not { } directory || state.LowerDirectories is not { } lowers)
        {
            throw new ContainerStatusException(id, operation, state.Status,
                "its root is mounted only while its process runs, and it keeps no root of its own on disk (it was not made from an image or with a copy-on-write root)");
        }

        // A removal holds the lock while it removes the folder: after one, the folder is gone (null).
        var held = await ContainerStorage.LockAsync(directory, cancellationToken).ConfigureAwait(false)
            ?? throw new ContainerStatusException(id, operation, ContainerStatus.Stopped, "its writable layer is gone: it was removed");

        try
        {
            var plan = ContainerPlan.CompileRootOnly(RootOnly(spec), OverlayRootfs.Restore(lowers, store), runtime.StateDirectory, HostView.Current);
            var (holder, _, _) = await ContainerProcess.LaunchAsync(plan, null, null, directory, cancellationToken).ConfigureAwait(false);
            return new StoppedRoot(held, holder);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The spec of the holder: the container's mount and user namespaces (with its id maps, so owners read and
    /// written are the container's), its root's read-only flag, and its bind mounts; nothing that needs another
    /// namespace, a cgroup or a program.
    /// </summary>
    internal static ContainerSpec RootOnly(ContainerSpec spec)
    {
        var linux = spec.Linux ?? new LinuxSpec();
        return new ContainerSpec
        {
            Process = new ProcessSpec { Args = spec.Process?.Args is { IsEmpty: false } args ? args : ["/"], Cwd = "/" },
            Root = spec.Root is { Readonly: true } ? new RootSpec(Readonly: true) : null,
            Mounts = [.. spec.Mounts.Where(m => m.Type == "bind" || m.Options.Contains("bind") || m.Options.Contains("rbind"))],
            Linux = new LinuxSpec
            {
                Namespaces = [.. linux.Namespaces.Where(n => n.Type is NamespaceType.Mount or NamespaceType.User)],
                UidMappings = linux.UidMappings,
                GidMappings = linux.GidMappings,
            },
        };
    }

    /// <summary>Ends the holder (it never ran anything: its wait fails and it is killed) and unmounts the root with its namespace.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _holder.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _lock.Dispose();
        }
    }
}
