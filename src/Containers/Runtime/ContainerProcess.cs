using System.Globalization;
using Containers.Cgroups;
using Containers.Linux;
using Containers.Runtime.Plan;
using Containers.Security.Seccomp;
using Microsoft.Win32.SafeHandles;

namespace Containers.Runtime;

/// <summary>
/// The process behind a container: either one this process launched (a <see cref="ChildProcess"/> it can wait
/// for and reap), or one found in the state directory, attached by a pidfd (signals and exit notification only).
/// </summary>
internal sealed class ContainerProcess : IAsyncDisposable
{
    private readonly ChildProcess? _child;
    private readonly SafeFileHandle? _attached;

    /// <summary>Answers the seccomp notifications of the process's filter, while the process runs.</summary>
    private SeccompListener? _listener;

    private ContainerProcess(ChildProcess child, ProcessIdentity identity)
    {
        _child = child;
        Pid = identity.Pid;
        StartTime = identity.StartTime;
        Exited = WaitChildAsync(child);
    }

    private ContainerProcess(SafeFileHandle pidfd, ProcessIdentity identity)
    {
        _attached = pidfd;
        Pid = identity.Pid;
        StartTime = identity.StartTime;
        Exited = WaitAttachedAsync(pidfd);
    }

    public int Pid { get; }

    /// <summary>Whether the process waits, set up, for <see cref="StartAsync"/> (the OCI created state); otherwise it goes on to exec by itself.</summary>
    public bool WaitsForStart { get; private init; } = true;

    public ulong StartTime { get; }

    /// <summary>Completes when the process has ended; for an attached process the status is unknown (both null).</summary>
    public Task<ContainerExit> Exited { get; }

    public SafeFileHandle PidFd => _child?.PidFd ?? _attached!;

    /// <summary>
    /// Launches <paramref name="plan"/>: supplies its fds, writes the user namespace maps while the child waits,
    /// and receives the terminal's master. Everything opened is closed again when this fails, and
    /// <paramref name="pooledNetwork"/> (the network namespace a <see cref="FdKind.PooledNetwork"/> slot gets) is
    /// closed in any case: the child holds the namespace once it has joined it. The process is in
    /// <paramref name="cgroup"/> and has <paramref name="oomScoreAdj"/> before it execs the program.
    /// </summary>
    /// <param name="plan">The compiled start.</param>
    /// <param name="containerPidFd">For an exec: the running container's pidfd.</param>
    /// <param name="pooledNetwork">A network namespace from the runtime's pool, or null.</param>
    /// <param name="containerDirectory">For an overlay root: the container's directory holding its upper and work directories.</param>
    /// <param name="cancellationToken">Cancels the launch.</param>
    /// <param name="cgroup">The container's cgroup, which the process is cloned into or joins before exec, or null.</param>
    /// <param name="oomScoreAdj">The process's <c>oom_score_adj</c>, written before exec, or null to inherit it.</param>
    /// <param name="outputToExit">
    /// Whether the owner reads the output only up to the exit (a run): the outputs' end of file then arrives with the
    /// exit, one wake-up for the three (<see cref="FdPoller.ExitGroup"/>).
    /// </param>
    public static async Task<(ContainerProcess Process, StdioPipes? Stdio, ContainerTerminal? Terminal)> LaunchAsync(
        ContainerPlan plan, SafeFileHandle? containerPidFd, SafeFileHandle? pooledNetwork, string? containerDirectory, CancellationToken cancellationToken,
        ICgroup? cgroup = null, int? oomScoreAdj = null, bool outputToExit = false)
    {
        var exitGroup = outputToExit ? new FdPoller.ExitGroup() : null;
        StdioPipes? stdio = null;
        SafeFileHandle? terminalSocket = null;
        SafeFileHandle? listenerSocket = null;
        SeccompListener? listener = null;
        ChildProcess? child = null;
        var opened = new List<SafeFileHandle>();
        if (pooledNetwork is not null)
        {
            opened.Add(pooledNetwork);
        }

        try
        {
            var fds = new List<SafeFileHandle>(plan.Fds.Count);
            foreach (var source in plan.Fds)
            {
                switch (source.Kind)
                {
                    case FdKind.Stdin:
                        stdio ??= StdioPipes.Create(exitGroup);
                        fds.Add(stdio.ChildStdin);
                        break;
                    case FdKind.Stdout:
                        fds.Add(stdio!.ChildStdout);
                        break;
                    case FdKind.Stderr:
                        fds.Add(stdio!.ChildStderr);
                        break;
                    case FdKind.DevNull:
                        opened.Add(File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite));
                        fds.Add(opened[^1]);
                        break;
                    case FdKind.TerminalSocket:
                        var (parent, childEnd) = LibC.SocketPair();
                        terminalSocket = parent;
                        opened.Add(childEnd);
                        fds.Add(childEnd);
                        break;
                    case FdKind.Namespace:
                        opened.Add(File.OpenHandle(source.Path!, FileMode.Open, FileAccess.Read));
                        fds.Add(opened[^1]);
                        break;
                    case FdKind.SeccompListenerSocket:
                        var (listenerEnd, childListenerEnd) = LibC.SocketPair();
                        listenerSocket = listenerEnd;
                        opened.Add(childListenerEnd);
                        fds.Add(childListenerEnd);
                        break;
                    case FdKind.ContainerPidFd:
                        fds.Add(containerPidFd ?? throw new InvalidOperationException("an exec plan needs the container's pidfd"));
                        break;
                    case FdKind.Cgroup:
                        opened.Add((cgroup ?? throw new InvalidOperationException("the plan clones into a cgroup but none was given")).OpenDirectory());
                        fds.Add(opened[^1]);
                        break;
                    case FdKind.CgroupTasks:
                        opened.Add((cgroup ?? throw new InvalidOperationException("the plan joins a cgroup but none was given")).OpenTasks(source.Path!));
                        fds.Add(opened[^1]);
                        break;
                    case FdKind.ContainerDirectory:
                        opened.Add(OpenPath(containerDirectory ?? throw new InvalidOperationException("an overlay root needs the container's directory")));
                        fds.Add(opened[^1]);
                        break;
                    case FdKind.PooledNetwork:
                        fds.Add(pooledNetwork ?? throw new InvalidOperationException("a plan joining a pooled network namespace needs one"));
                        break;
                }
            }

            child = ChildProcess.Launch(plan.Plan, fds, stdio is null ? null : exitGroup);

            // The child has its own copies now: closing ours lets end-of-file reach each side when the other closes.
            stdio?.CloseChildEnds();
            foreach (var handle in opened)
            {
                handle.Dispose();
            }

            opened.Clear();
            if (plan.Mapping is { } mapping)
            {
                await mapping.ApplyAsync(child.Pid, cancellationToken).ConfigureAwait(false);
                child.Continue();
            }

            if (plan.WaitsToBePlaced)
            {
                Place(child.Pid, oomScoreAdj);
                child.Continue();
            }

            ContainerTerminal? terminal = null;
            if (terminalSocket is not null)
            {
                var receive = ChildProcess.ReceiveFdAsync(terminalSocket, cancellationToken);
                var setupFailed = child.WaitForExecAsync(cancellationToken);
                if (await Task.WhenAny(receive, setupFailed).ConfigureAwait(false) == setupFailed)
                {
                    await setupFailed.ConfigureAwait(false);
                }

                terminal = new ContainerTerminal(await receive.ConfigureAwait(false));
            }

            if (listenerSocket is not null)
            {
                // The filter is loaded after the terminal is set up, so its listener comes second.
                listener = new SeccompListener(await ReceiveOrFailAsync(child, listenerSocket, cancellationToken).ConfigureAwait(false),
                    plan.SeccompNotify ?? throw new InvalidOperationException("a plan with a seccomp listener needs a handler"));
            }

            if (plan.WaitsForStart)
            {
                // The created state means set up: a failed step surfaces here, before the container exists.
                await child.WaitForSetupAsync(cancellationToken).ConfigureAwait(false);
                Place(child.Pid, oomScoreAdj);
            }

            var identity = ProcessIdentity.Of(child.Pid) ?? new ProcessIdentity(child.Pid, 0);
            return (new ContainerProcess(child, identity) { _listener = listener, WaitsForStart = plan.WaitsForStart }, stdio, terminal);
        }
        catch
        {
            if (listener is not null)
            {
                await listener.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var handle in opened)
            {
                handle.Dispose();
            }

            if (child is not null)
            {
                await child.DisposeAsync().ConfigureAwait(false);
            }

            if (stdio is not null)
            {
                await stdio.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
        finally
        {
            terminalSocket?.Dispose();
            listenerSocket?.Dispose();
        }
    }

    /// <summary>
    /// Sets the waiting child's OOM score adjustment, which the program and its children inherit. The launcher does
    /// it, not the child: the child may already be an unprivileged user in a user namespace, where a lowered
    /// oom_score_adj is out of its reach.
    /// </summary>
    private static void Place(int pid, int? oomScoreAdj)
    {
        if (oomScoreAdj is { } adj)
        {
            try
            {
                ProcFile.Write(pid, "oom_score_adj", adj.ToString(CultureInfo.InvariantCulture));
            }
            catch (IOException e)
            {
                throw new ContainersException(
                    $"process.oomScoreAdj: setting {adj} failed ({e.Message}); lowering it below this process's own needs CAP_SYS_RESOURCE", e);
            }
        }
    }

    /// <summary>Receives an fd the child sends, or raises the child's setup failure if it fails first.</summary>
    private static async Task<SafeFileHandle> ReceiveOrFailAsync(ChildProcess child, SafeFileHandle socket, CancellationToken cancellationToken)
    {
        var receive = ChildProcess.ReceiveFdAsync(socket, cancellationToken);
        var setupFailed = child.WaitForExecAsync(cancellationToken);
        if (await Task.WhenAny(receive, setupFailed).ConfigureAwait(false) == setupFailed)
        {
            await setupFailed.ConfigureAwait(false);
        }

        return await receive.ConfigureAwait(false);
    }

    /// <summary>Opens a directory as an <c>O_PATH</c> fd (the child names paths below it through <c>/proc/self/fd</c>).</summary>
    private static unsafe SafeFileHandle OpenPath(string directory)
    {
        var name = DirectoryTree.NulTerminated(directory);
        fixed (byte* p = name)
        {
            var handle = FileSystemCalls.Openat(new SafeFileHandle(FileSystemCalls.AtFdCwd, ownsHandle: false), p,
                FileSystemCalls.OPath | FileSystemCalls.ODirectory | FileSystemCalls.OCloExec, 0);
            if (handle.IsInvalid)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                handle.Dispose();
                throw new ContainersIOException($"opening the container's directory {directory} failed: {Errno.Name(errno)}", directory, null);
            }

            return handle;
        }
    }

    /// <summary>Opens a pidfd for a process another runtime launched, if it is still that process.</summary>
    public static ContainerProcess? Attach(ProcessIdentity identity)
    {
        var fd = Shim.PidFdOpen(identity.Pid);
        if (fd < 0)
        {
            return null;
        }

        var pidfd = new SafeFileHandle(fd, ownsHandle: true);

        // Checked after opening: the pidfd now pins this pid, so a match means the pidfd is the right process.
        if (!identity.IsAlive)
        {
            pidfd.Dispose();
            return null;
        }

        return new ContainerProcess(pidfd, identity);
    }

    /// <summary>Releases the child's final wait and returns once it has exec'd the user's program.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!WaitsForStart)
        {
            await _child!.WaitForExecAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            _child!.Continue();
        }
        catch (ContainersException)
        {
            // The child is gone (EPIPE): its report says why, which is the error worth raising.
            await _child!.WaitForExecAsync(cancellationToken).ConfigureAwait(false);
            throw;
        }

        await _child.WaitForExecAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns once the process has exec'd its program (for a plan that does not wait for a start).</summary>
    public Task WaitForExecAsync(CancellationToken cancellationToken) => _child!.WaitForExecAsync(cancellationToken);

    /// <summary>Sends a signal; a process that has already ended is left alone.</summary>
    public void Signal(int signal)
    {
        if (_child is not null)
        {
            _child.Signal(signal);
            return;
        }

        var r = Shim.PidFdSendSignal((int)_attached!.DangerousGetHandle(), signal);
        if (r < 0 && r != -Errno.ESRCH)
        {
            throw new ContainersException($"sending signal {signal} to pid {Pid} failed: {Errno.Name(-r)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_child is not null)
        {
            await _child.DisposeAsync().ConfigureAwait(false);
        }

        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }

        _attached?.Dispose();
    }

    private static async Task<ContainerExit> WaitChildAsync(ChildProcess child)
    {
        var status = await child.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        return new ContainerExit(status.ExitCode, status.Signal);
    }

    private static async Task<ContainerExit> WaitAttachedAsync(SafeFileHandle pidfd)
    {
        await FdPoller.WaitReadableAsync(pidfd, CancellationToken.None).ConfigureAwait(false);
        return new ContainerExit(null, null);
    }
}
