using System.Runtime.InteropServices;
using Containers.Linux;
using Containers.Spec;
using Microsoft.Win32.SafeHandles;

namespace Containers.Runtime;

/// <summary>
/// Does on a container's root what a caller without root cannot do from the host: a rootless container's users own
/// their files under subordinate ids, which the caller may neither read past (a mode 0600 file of uid 1234) nor
/// give files to. A child of the shim joins the container's user namespace (<c>setns</c> on
/// <c>/proc/PID/ns/user</c> of the container's process: the caller owns that namespace, so it joins with every
/// capability in it and no id map is written), where <c>CAP_DAC_OVERRIDE</c> and <c>CAP_CHOWN</c> reach every id
/// the container maps and no other. There it opens entries and sends the fds back, or gives entries owners. Every
/// path is resolved beneath a directory fd the caller holds (<c>openat2</c> <c>RESOLVE_IN_ROOT</c>), its last
/// component never followed; nothing is executed in the child.
/// </summary>
internal sealed class ContainerUserNamespace : IDisposable
{
    /// <summary>Entries one child handles; a plan holds one op per entry.</summary>
    private const int Batch = 512;

    private readonly SafeFileHandle _namespace;
    private readonly string _containerId;
    private readonly IReadOnlyList<LinuxIdMapping> _uidMappings;
    private readonly IReadOnlyList<LinuxIdMapping> _gidMappings;

    private ContainerUserNamespace(SafeFileHandle userNamespace, string containerId, IReadOnlyList<LinuxIdMapping>? uidMappings, IReadOnlyList<LinuxIdMapping>? gidMappings)
    {
        _namespace = userNamespace;
        _containerId = containerId;
        _uidMappings = uidMappings ?? [];
        _gidMappings = gidMappings ?? [];
    }

    /// <summary>Children launched so far.</summary>
    public int Launches { get; private set; }

    /// <summary>
    /// The user namespace of <paramref name="process"/> (the container's, or the holder of a stopped one's root),
    /// checked after opening to belong to that process and not to one that reused its pid.
    /// </summary>
    /// <exception cref="ContainerStatusException">The process has exited.</exception>
    public static unsafe ContainerUserNamespace Open(ProcessIdentity process, string containerId, string operation, IReadOnlyList<LinuxIdMapping>? uidMappings, IReadOnlyList<LinuxIdMapping>? gidMappings)
    {
        var path = $"/proc/{process.Pid}/ns/user";
        SafeFileHandle handle;
        fixed (byte* p = DirectoryTree.NulTerminated(path))
        {
            handle = FileSystemCalls.Openat(new SafeFileHandle(FileSystemCalls.AtFdCwd, ownsHandle: false), p, FileSystemCalls.ORdOnly | FileSystemCalls.OCloExec, 0);
        }

        var errno = Marshal.GetLastPInvokeError();
        if (handle.IsInvalid || !process.IsAlive)
        {
            handle.Dispose();
            throw handle.IsInvalid && errno != Errno.ENOENT && errno != Errno.ESRCH
                ? new ContainersIOException($"cannot {operation} container '{containerId}': opening {path} failed: {Errno.Name(errno)} ({Errno.Describe(errno)})", path, null)
                : new ContainerStatusException(containerId, operation, ContainerStatus.Stopped, "its process has exited");
        }

        return new ContainerUserNamespace(handle, containerId, uidMappings, gidMappings);
    }

    /// <summary>
    /// Opens <paramref name="path"/> beneath <paramref name="directory"/> in the namespace: a regular file or a
    /// directory for reading, anything else as an <c>O_PATH</c> fd. The caller owns the fd.
    /// </summary>
    /// <exception cref="ContainersIOException">The namespace's root may not open it either (its owner is outside the container's mappings), or it vanished.</exception>
    public SafeFileHandle Open(SafeFileHandle directory, string path, string display, CancellationToken cancellationToken) =>
        Open(directory, [(path, display)], null, missingOk: false, cancellationToken)[0]!;

    /// <summary>
    /// Opens each of <paramref name="entries"/> (a path beneath <paramref name="directory"/>, and the name an error
    /// gives it) in the namespace, in one child: as <see cref="Open(SafeFileHandle, string, string, CancellationToken)"/>,
    /// in order; null for one that is gone by then (removed since the directory was listed). The caller owns the fds.
    /// </summary>
    /// <exception cref="ContainersIOException">One cannot be opened there either (the first such is named); no fd is left open.</exception>
    public SafeFileHandle?[] OpenEach(SafeFileHandle directory, IReadOnlyList<(string Path, string Display)> entries, CancellationToken cancellationToken) =>
        Open(directory, entries, null, missingOk: true, cancellationToken);

    /// <summary>
    /// Makes the directory <paramref name="name"/> (mode 0700, owned by the namespace's root: the caller) in
    /// <paramref name="directory"/>, which only another of the container's users may write to, and opens it for the
    /// caller, who may then make entries in it through the fd.
    /// </summary>
    /// <exception cref="ContainersIOException">It cannot be made or opened there either; the message names the errno.</exception>
    public SafeFileHandle MakeDirectory(SafeFileHandle directory, string name, string display, CancellationToken cancellationToken) =>
        Open(directory, [(name, display)], b => b.MakeDirectory(name, 0x1c0, stage: $"mkdir {display}"), missingOk: false, cancellationToken)[0]!;

    /// <summary>
    /// renameat2 of <paramref name="from"/> to <paramref name="to"/> (paths beneath <paramref name="directory"/>,
    /// neither last component followed) in the namespace; 0, or the errno it failed with.
    /// </summary>
    public int Rename(SafeFileHandle directory, string from, string to, uint flags, CancellationToken cancellationToken) =>
        TryRun(directory, b => b.Rename(from, to, flags), cancellationToken).Errno;

    /// <summary>
    /// renameat2 of each of <paramref name="renames"/> (as <see cref="Rename"/>) in order, in one child, which stops at
    /// the first that fails: how many were done, and the errno of the one that failed (0 when all were done).
    /// </summary>
    public (int Done, int Errno) RenameEach(SafeFileHandle directory, IReadOnlyList<(string From, string To, uint Flags)> renames, CancellationToken cancellationToken)
    {
        const string Stage = "rename #";
        var (errno, stage) = TryRun(directory, b =>
        {
            for (var i = 0; i < renames.Count; i++)
            {
                b.Rename(renames[i].From, renames[i].To, renames[i].Flags, stage: Stage + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }, cancellationToken);

        // A failure before the first rename (the directory could not be opened there) did none of them.
        return errno == 0 ? (renames.Count, 0)
            : stage!.StartsWith(Stage, StringComparison.Ordinal) ? (int.Parse(stage.AsSpan(Stage.Length), System.Globalization.CultureInfo.InvariantCulture), errno)
            : (0, errno);
    }

    /// <summary>unlinkat of <paramref name="path"/> beneath <paramref name="directory"/> in the namespace (an empty directory with <paramref name="isDirectory"/>); 0, or the errno.</summary>
    public int Unlink(SafeFileHandle directory, string path, bool isDirectory, CancellationToken cancellationToken) =>
        TryRun(directory, b => b.Unlink(path, isDirectory), cancellationToken).Errno;

    private SafeFileHandle?[] Open(SafeFileHandle directory, IReadOnlyList<(string Path, string Display)> entries, Action<PlanBuilder>? before, bool missingOk, CancellationToken cancellationToken)
    {
        var builder = Begin(directory, out var socketSlot);
        before?.Invoke(builder);
        foreach (var (path, display) in entries)
        {
            builder.OpenAndSend(path, socketSlot!.Value, display, missingOk);
        }

        var (parentEnd, childEnd) = LibC.SocketPair();
        var received = new List<SafeFileHandle?>(entries.Count);
        using (parentEnd)
        {
            try
            {
                Run(builder.Build(), directory, childEnd, async (child, ct) =>
                {
                    try
                    {
                        while (received.Count < entries.Count)
                        {
                            received.Add(await ChildProcess.ReceiveFdOrMissingAsync(parentEnd, ct).ConfigureAwait(false));
                        }
                    }
                    catch (ContainersException)
                    {
                        // The child stopped sending: it failed an open, which its error pipe names.
                    }
                }, cancellationToken);
                return received.Count == entries.Count
                    ? [.. received]
                    : throw new ContainersIOException($"cannot open '{entries[received.Count].Display}' in container '{_containerId}': its user namespace sent no fd", entries[received.Count].Display, null);
            }
            catch
            {
                received.ForEach(fd => fd?.Dispose());
                throw;
            }
        }
    }

    /// <summary>
    /// Gives each entry (a path beneath <paramref name="root"/>) its owner, named by host ids that the container's
    /// mappings cover; with a mode, that mode is set again after (a change of owner clears set-id bits).
    /// </summary>
    /// <exception cref="ContainersIOException">An entry cannot be given its owner; the message names it and the errno.</exception>
    public void Chown(SafeFileHandle root, IReadOnlyList<(string Path, uint Uid, uint Gid, uint? Mode)> entries, CancellationToken cancellationToken)
    {
        foreach (var batch in entries.Chunk(Batch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var builder = Begin(root, out _, withSocket: false);
            foreach (var (path, uid, gid, mode) in batch)
            {
                builder.Chown(path, Inside(_uidMappings, uid), Inside(_gidMappings, gid), path, mode);
            }

            Run(builder.Build(), root, null, null, cancellationToken);
        }
    }

    public void Dispose() => _namespace.Dispose();

    /// <summary>Runs the ops <paramref name="ops"/> adds beneath <paramref name="directory"/>; 0, or the errno the first failing one reports and its stage.</summary>
    /// <exception cref="ContainersIOException">The namespace cannot be joined.</exception>
    private (int Errno, string? Stage) TryRun(SafeFileHandle directory, Action<PlanBuilder> ops, CancellationToken cancellationToken)
    {
        var builder = Begin(directory, out _, withSocket: false);
        ops(builder);
        try
        {
            Run(builder.Build(), directory, null, null, cancellationToken);
            return (0, null);
        }
        catch (ContainersIOException e) when (e.InnerException is ContainerStartException { Stage: var stage } failed && !stage.StartsWith("join", StringComparison.Ordinal))
        {
            return (failed.Errno, stage);
        }
    }

    private PlanBuilder Begin(SafeFileHandle directory, out PlanFd? socket, bool withSocket = true)
    {
        var builder = new PlanBuilder();
        var userNamespace = builder.ImportFd();
        builder.ImportFd();
        socket = withSocket ? builder.ImportFd() : null;

        // The directory is imported, so the child holds the same fd number: its /proc/self/fd link is the very directory.
        return builder
            .SetNs(userNamespace, CloneFlags.NewUser, "join the container's user namespace")
            .Root($"/proc/self/fd/{directory.DangerousGetHandle()}", "open the copy's directory");
    }

    private void Run(Linux.Plan plan, SafeFileHandle directory, SafeFileHandle? socket, Func<ChildProcess, CancellationToken, Task>? whileRunning, CancellationToken cancellationToken)
    {
        ChildProcess child;
        using (socket)
        {
            child = ChildProcess.Launch(plan, socket is null ? [_namespace, directory] : [_namespace, directory, socket]);
        }

        Launches++;
        try
        {
            RunAsync(child, whileRunning, cancellationToken).GetAwaiter().GetResult();
        }
        finally
        {
            child.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private async Task RunAsync(ChildProcess child, Func<ChildProcess, CancellationToken, Task>? whileRunning, CancellationToken cancellationToken)
    {
        if (whileRunning is not null)
        {
            await whileRunning(child, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await child.WaitForExecAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ContainerStartException e)
        {
            throw e.ErrnoName switch
            {
                "EPERM" or "EACCES" or "EINVAL" when e.Stage.StartsWith("join", StringComparison.Ordinal) => new ContainersIOException(
                    $"cannot {e.Stage} of '{_containerId}': {e.ErrnoName}: this user does not own it (run as the user that made the container, or as root)", null, e),
                "EPERM" or "EACCES" or "EINVAL" or "EOVERFLOW" => new ContainersIOException(
                    $"cannot reach '{e.Stage}' in container '{_containerId}' even as its root: {e.ErrnoName} (its owner or the one asked for is outside the container's id mappings)", e.Stage, e),
                _ => new ContainersIOException($"cannot reach '{e.Stage}' in container '{_containerId}' as its root: {e.ErrnoName}", e.Stage, e),
            };
        }

        await child.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The id inside the container for a host id its mappings cover (the caller checked they do).</summary>
    private static uint Inside(IReadOnlyList<LinuxIdMapping> mappings, uint hostId) =>
        mappings.Count == 0 ? hostId
        : mappings.FirstOrDefault(m => hostId >= m.HostId && hostId - m.HostId < m.Size) is { } m ? m.ContainerId + (hostId - m.HostId)
        : throw new InvalidOperationException($"host id {hostId} is outside the container's mappings");
}
