using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Containers.Linux;

/// <summary>
/// A process started from a <see cref="Plan"/> by the shim: holds its pidfd, the error pipe that reports setup
/// failures, and the sync pipe that releases WAIT_FD ops. Waiting and signalling go through the pidfd, so there is
/// no pid-reuse race. The child is cloned with exit signal 0, so until it execs only <c>__WALL</c> waits see it;
/// execve resets the exit signal to SIGCHLD, after which a host that reaps every child (the .NET runtime as pid 1)
/// can take its status. A plan whose containers-init keeps the program (<see cref="InitRole.Keeper"/>) reports the
/// status over a pipe of its own instead, which no reaping can take. Disposing kills and reaps it.
/// </summary>
/// <example>
/// <code>
/// await using var child = ChildProcess.Launch(plan, [stdoutWrite]);
/// child.Continue();                      // releases a WaitForParent() op, e.g. after writing uid_map
/// await child.WaitForExecAsync(ct);      // throws ContainerStartException naming the failed stage
/// ChildExitStatus status = await child.WaitAsync(ct);
/// </code>
/// </example>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const int SIGKILL = 9;
    private const int CLD_EXITED = 1;
    private const int CLD_DUMPED = 3;

    /// <summary>Children launched whose exit this process has not seen yet (see <see cref="Launch"/>).</summary>
    private static int s_running;

    private readonly Plan _plan;
    private readonly SafeFileHandle _errorPipe;
    private readonly ulong _launchHandle;
    private readonly SafeFileHandle? _statusPipe;
    private readonly FdPoller.ExitGroup? _exitGroup;
    private readonly TaskCompletionSource _pidResolved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private Task<ContainerStartException?>? _reports;
    private SafeFileHandle? _sync;
    private SafeFileHandle _pidfd;
    private SafeFileHandle? _mountNamespace;
    private Task<ChildExitStatus>? _exit;
    private bool _disposed;

    private ChildProcess(Plan plan, int pid, SafeFileHandle pidfd, SafeFileHandle errorPipe, ulong launchHandle, SafeFileHandle? sync,
        SafeFileHandle? statusPipe, FdPoller.ExitGroup? exitGroup)
    {
        _exitGroup = exitGroup;
        _plan = plan;
        _statusPipe = statusPipe;
        Pid = pid;
        _pidfd = pidfd;
        _errorPipe = errorPipe;
        _launchHandle = launchHandle;
        _sync = sync;
        if (plan.HasFork)
        {
            // The process that goes on is announced on the error pipe: read it from the start.
            _ = Reports;
        }
        else
        {
            _pidResolved.SetResult();
        }
    }

    /// <summary>
    /// Reads the error pipe to EOF. Started on first use: a caller that only waits for the exit reads it once the
    /// child is gone, without a wake-up per start.
    /// </summary>
    private Task<ContainerStartException?> Reports
    {
        get
        {
            lock (_gate)
            {
                return _reports ??= ReadReportsAsync();
            }
        }
    }

    /// <summary>The child's pid in the launcher's pid namespace (after a FORK op: the process that went on).</summary>
    public int Pid { get; private set; }

    /// <summary>The child's pidfd (after a FORK op: of the process that went on).</summary>
    public SafeFileHandle PidFd => _pidfd;

    /// <summary>
    /// Clones a child that runs <paramref name="plan"/>. <paramref name="fds"/> fills the plan's imported slots in
    /// order (see <see cref="PlanBuilder.ImportFd"/>); the child gets its own copies, the caller keeps its handles.
    /// Returns once the child exists (or has pivoted, see <paramref name="waitForPivot"/>); setup failures surface from
    /// <see cref="WaitForExecAsync"/>.
    /// </summary>
    /// <param name="plan">The plan.</param>
    /// <param name="fds">The plan's imported fds.</param>
    /// <param name="exitGroup">The group whose held waits the child's exit completes (its output pipes'), or null.</param>
    /// <param name="waitForPivot">
    /// Whether to return only once the child of a plan built with <see cref="PlanBuilder.ReturnAfterPivot"/> pivoted
    /// (or exec'd or exited); null: when no other child of this process runs (a burst of starts would only wait) and
    /// the launch is not on the process's main thread.
    /// </param>
    /// <exception cref="ContainerStartException">The child could not be created (<c>Stage = "clone"</c>).</exception>
    public static unsafe ChildProcess Launch(Plan plan, IReadOnlyList<SafeFileHandle>? fds = null, FdPoller.ExitGroup? exitGroup = null, bool? waitForPivot = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        fds ??= [];
        if (fds.Count != plan.ImportedFdCount)
        {
            throw new ArgumentException($"the plan imports {plan.ImportedFdCount} fds but {fds.Count} were given", nameof(fds));
        }

        SafeFileHandle? syncRead = null, syncWrite = null, statusRead = null, statusWrite = null;
        var handles = new List<SafeFileHandle>(fds.Count + PlanLayout.SlotFirstImport);
        var table = new int[fds.Count + PlanLayout.SlotFirstImport];
        try
        {
            if (plan.UsesSync)
            {
                (syncRead, syncWrite) = LibC.Pipe();
            }

            if (plan.KeepsProgram)
            {
                // Non-blocking: the status is read once the keeper is gone, and a keeper killed before it could
                // write one leaves the pipe empty.
                (statusRead, statusWrite) = LibC.Pipe(LibC.O_NONBLOCK);
            }

            table[PlanLayout.SlotSync] = syncRead is null ? -1 : AddRef(syncRead, handles);
            table[PlanLayout.SlotInit] = plan.UsesInitBinary ? AddRef(InitBinary.Fd, handles) : -1;
            table[PlanLayout.SlotStatus] = statusWrite is null ? -1 : AddRef(statusWrite, handles);
            for (var i = 0; i < fds.Count; i++)
            {
                table[PlanLayout.SlotFirstImport + i] = AddRef(fds[i], handles);
            }

            var (rc, result) = LaunchThread.For(plan.LaunchBoundingSet).Run(() =>
            {
                // Waiting for the child's pivot holds the launching thread and its caller back. Worth it where the
                // wait leaves a CPU idle; with other children running (a burst of starts) it would only hold the
                // next start's clone back. A start on the process's main thread (the command line's one container)
                // has more work of its own to do beside the child's setup than the wait saves.
                var wait = waitForPivot ?? (Volatile.Read(ref s_running) == 0 && !LaunchThread.OnMainThread);
                var flags = wait ? Shim.LaunchFlags.WaitForPivot : Shim.LaunchFlags.None;
                Shim.LaunchResult res;
                fixed (byte* p = plan.Bytes.Span)
                fixed (int* t = table)
                {
                    var r = Shim.Launch(p, (uint)plan.Bytes.Length, t, (uint)table.Length, flags, &res);
                    return (r, res);
                }
            });

            if (rc < 0)
            {
                if (result.FailedOp >= 0)
                {
                    throw new ContainersException($"the shim rejected op {result.FailedOp} ('{plan.Stages[result.FailedOp]}') of the plan as malformed");
                }

                if (result.FailedOp == -2)
                {
                    throw new ContainersException("the shim rejected the plan header: the library and libcontainers-shim.so do not match");
                }

                throw StartFailure.Create(plan, null, "clone", -rc);
            }

            var pidfd = new SafeFileHandle(result.PidFd, ownsHandle: true);
            Interlocked.Increment(ref s_running);
            return new ChildProcess(plan, result.Pid, pidfd, new SafeFileHandle(result.ErrorFd, ownsHandle: true), result.Handle, syncWrite, statusRead, exitGroup)
            {
                // A new mount namespace is torn down off the exit's path (MountNamespaceHold): its exit is known sooner.
                _mountNamespace = plan.CloneFlags.HasFlag(CloneFlags.NewNs) ? MountNamespaceHold.Take(pidfd) : null,
            };
        }
        catch
        {
            syncWrite?.Dispose();
            statusRead?.Dispose();
            throw;
        }
        finally
        {
            foreach (var h in handles)
            {
                h.DangerousRelease();
            }

            syncRead?.Dispose();
            statusWrite?.Dispose();
        }
    }

    /// <summary>Receives an fd the child sent over <paramref name="socket"/> (the pty master of an OPEN_PTY op).</summary>
    public static async Task<SafeFileHandle> ReceiveFdAsync(SafeFileHandle socket, CancellationToken cancellationToken) =>
        await ReceiveFdOrMissingAsync(socket, cancellationToken).ConfigureAwait(false)
            ?? throw new ContainersException($"receiving an fd from the container failed: {Errno.Name(Errno.ENOENT)}");

    /// <summary>As <see cref="ReceiveFdAsync"/>; null for the message an OPEN_SEND op with <c>missingOk</c> sends when its path is gone.</summary>
    public static async Task<SafeFileHandle?> ReceiveFdOrMissingAsync(SafeFileHandle socket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        await FdPoller.WaitReadableAsync(socket, cancellationToken).ConfigureAwait(false);
        var fd = Shim.ReceiveFd((int)socket.DangerousGetHandle());
        return fd == -Errno.ENOENT ? null
            : fd < 0 ? throw new ContainersException($"receiving an fd from the container failed: {Errno.Name(-fd)}")
            : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Releases the next WAIT_FD op of the child (one byte on the sync pipe).</summary>
    public unsafe void Continue()
    {
        var sync = _sync ?? throw new InvalidOperationException("the plan has no WaitForParent op, or the sync pipe was released");
        byte b = 1;
        var added = false;
        sync.DangerousAddRef(ref added);
        try
        {
            if (LibC.write((int)sync.DangerousGetHandle(), &b, 1) != 1)
            {
                throw new ContainersException($"writing the sync pipe failed: {Errno.Name(Marshal.GetLastPInvokeError())}");
            }
        }
        finally
        {
            sync.DangerousRelease();
        }
    }

    /// <summary>
    /// <see cref="Continue"/>, unless the sync pipe is gone: released by a dispose under way, or closed by a child
    /// that died (its report or exit says why).
    /// </summary>
    private void ContinueIfOpen()
    {
        try
        {
            Continue();
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or ContainersException)
        {
        }
    }

    /// <summary>Closes the sync pipe: a child waiting in WAIT_FD gives up (its start fails with ECANCELED).</summary>
    public void ReleaseSync()
    {
        Interlocked.Exchange(ref _sync, null)?.Dispose();
    }

    /// <summary>
    /// Completes when the child has exec'd (EOF on the error pipe); throws <see cref="ContainerStartException"/>
    /// with the failed stage when an op failed.
    /// </summary>
    public async Task WaitForExecAsync(CancellationToken cancellationToken)
    {
        var failure = await Reports.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            throw new ContainerStartException(failure.Stage, failure.Errno, failure.ErrnoName, failure.Message);
        }
    }

    /// <summary>
    /// Completes when the child has reached a WAIT_FD op that announces itself (every op before it succeeded), or
    /// has exec'd or ended; throws <see cref="ContainerStartException"/> with the failed stage when an op failed.
    /// </summary>
    public async Task WaitForSetupAsync(CancellationToken cancellationToken)
    {
        var reports = Reports;
        await Task.WhenAny(_ready.Task, reports).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (reports.IsCompleted)
        {
            await WaitForExecAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the child to end and reaps it (once; later calls return the same status).</summary>
    public Task<ChildExitStatus> WaitAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _exit ??= WaitForExitAsync();
        }

        return _exit.WaitAsync(cancellationToken);
    }

    /// <summary>Sends <paramref name="signal"/> through the pidfd; false when the process has already ended.</summary>
    public bool Signal(int signal)
    {
        lock (_gate)
        {
            if (_exit is { IsCompleted: true })
            {
                return false;
            }

            var r = Shim.PidFdSendSignal((int)_pidfd.DangerousGetHandle(), signal);
            if (r == -Errno.ESRCH)
            {
                return false;
            }

            if (r < 0)
            {
                throw new ContainersException($"pidfd_send_signal({signal}) to pid {Pid} failed: {Errno.Name(-r)}");
            }

            return true;
        }
    }

    /// <summary>Kills the child if it still runs, reaps it and releases every fd and the launch memory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReleaseSync();
        Signal(SIGKILL);
        await Reports.ConfigureAwait(false);

        // A FORK op may have handed over to a new process after the kill above.
        Signal(SIGKILL);
        await WaitAsync(CancellationToken.None).ConfigureAwait(false);
        _pidfd.Dispose();
    }

    private static int AddRef(SafeFileHandle handle, List<SafeFileHandle> handles)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        handles.Add(handle);
        return (int)handle.DangerousGetHandle();
    }

    private static unsafe nint Read(SafeFileHandle fd, byte[] buffer)
    {
        fixed (byte* p = buffer)
        {
            return LibC.read((int)fd.DangerousGetHandle(), p, buffer.Length);
        }
    }

    private static ChildExitStatus Reap(SafeFileHandle pidfd) =>
        TryReap(pidfd) ?? throw new ContainersException(
            "the child's exit status was collected by another wait in this process (a host that reaps every child, such as " +
            "a .NET host started with SIGCHLD ignored): create the container with an init (ContainerCreateOptions.Init), whose status reaches the runtime over a pipe");

    /// <summary>Reaps through the pidfd; null when another wait in this process took the status first.</summary>
    private static ChildExitStatus? TryReap(SafeFileHandle pidfd)
    {
        var r = Shim.WaitIdPidFd((int)pidfd.DangerousGetHandle(), 0, out _, out var code, out var status);
        if (r == -Errno.ECHILD)
        {
            // execve resets the exit signal to SIGCHLD, so a wait(-1) elsewhere in this process (the .NET runtime
            // does one when it runs as pid 1) can reap the child first and take its status.
            return null;
        }

        if (r < 0)
        {
            throw new ContainersException($"waitid(P_PIDFD) failed: {Errno.Name(-r)}");
        }

        return code == CLD_EXITED ? new ChildExitStatus(status, null, false) : new ChildExitStatus(null, status, code == CLD_DUMPED);
    }

    /// <summary>The STATUS record containers-init wrote before it exited, or null when it wrote none.</summary>
    private static ChildExitStatus? ReadStatus(SafeFileHandle statusPipe)
    {
        var buffer = new byte[PlanLayout.ReportSize];
        nint n;
        do
        {
            n = Read(statusPipe, buffer);
        }
        while (n < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);

        if (n != PlanLayout.ReportSize || BitConverter.ToInt32(buffer, 0) != PlanLayout.ReportStatus)
        {
            return null;
        }

        var status = BitConverter.ToInt32(buffer, 8);
        var signal = status & 0x7f;
        return signal == 0 ? new ChildExitStatus((status >> 8) & 0xff, null, false) : new ChildExitStatus(null, signal, (status & 0x80) != 0);
    }

    private async Task<ChildExitStatus> WaitForExitAsync()
    {
        await _pidResolved.Task.ConfigureAwait(false);
        await (_exitGroup is null ? FdPoller.WaitReadableAsync(_pidfd, CancellationToken.None) : FdPoller.WaitExitAsync(_pidfd, _exitGroup)).ConfigureAwait(false);
        Interlocked.Decrement(ref s_running);
        MountNamespaceHold.Release(Interlocked.Exchange(ref _mountNamespace, null));
        if (_statusPipe is null)
        {
            return Reap(_pidfd);
        }

        // The keeper writes the status before it exits, so once the pidfd is readable the record is in the pipe.
        // Its own exit is reaped too where nothing took it first, but only the record tells how the program ended.
        var reaped = TryReap(_pidfd);
        var reported = ReadStatus(_statusPipe);
        _statusPipe.Dispose();

        // containers-init keeps every signal blocked and reports before it exits: without a record it was killed by
        // the one signal it cannot block (or failed to start the program, which the error pipe reports).
        return reported ?? reaped ?? new ChildExitStatus(null, SIGKILL, false);
    }

    private async Task<ContainerStartException?> ReadReportsAsync()
    {
        ContainerStartException? failure = null;
        var buffer = new byte[PlanLayout.ReportSize];
        try
        {
            while (true)
            {
                var n = Read(_errorPipe, buffer);
                if (n == 0)
                {
                    return failure;
                }

                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EAGAIN)
                    {
                        await FdPoller.WaitReadableAsync(_errorPipe, CancellationToken.None).ConfigureAwait(false);
                        continue;
                    }

                    if (errno != Errno.EINTR)
                    {
                        throw new ContainersException($"reading the error pipe failed: {Errno.Name(errno)}");
                    }

                    continue;
                }

                failure ??= await HandleReportAsync(buffer).ConfigureAwait(false);
            }
        }
        finally
        {
            _errorPipe.Dispose();
            Shim.LaunchFree(_launchHandle);
            _pidResolved.TrySetResult();
            _ready.TrySetResult();
        }
    }

    private async Task<ContainerStartException?> HandleReportAsync(byte[] report)
    {
        var kind = BitConverter.ToInt32(report, 0);
        var op = BitConverter.ToInt32(report, 4);
        var value = BitConverter.ToInt32(report, 8);
        if (kind == PlanLayout.ReportError)
        {
            var known = op >= 0 && op < _plan.Stages.Count;
            return StartFailure.Create(_plan, known ? _plan.Codes[op] : null, known ? _plan.Stages[op] : $"op {op}", value);
        }

        if (kind == PlanLayout.ReportReady)
        {
            _ready.TrySetResult();
            return null;
        }

        if (kind == PlanLayout.ReportPid)
        {
            // The new process is our child (CLONE_PARENT), waiting for the byte below, so its pid cannot be reused yet.
            var fd = Shim.PidFdOpen(value);
            if (fd < 0)
            {
                return StartFailure.Create(_plan, PlanOpCode.Fork, _plan.Stages[op], -fd);
            }

            // The new process waits for this byte before it goes on: until then it cannot end and be reaped by a
            // wait elsewhere in this process, so the pid opened above was still its own.
            ContinueIfOpen();

            var first = _pidfd;
            await FdPoller.WaitReadableAsync(first, CancellationToken.None).ConfigureAwait(false);
            Reap(first);
            lock (_gate)
            {
                _pidfd = new SafeFileHandle(fd, ownsHandle: true);
                Pid = value;
            }

            first.Dispose();
            _pidResolved.TrySetResult();
        }

        return null;
    }
}
