using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Containers.Cgroups;
using Containers.Spec;
using Microsoft.Extensions.Logging;

namespace Containers.Runtime;

/// <summary>
/// A container: its process, stdio and persisted state. Created by <see cref="ContainerRuntime.CreateAsync(string?, ContainerSpec, ContainerCreateOptions?, CancellationToken)"/>
/// in the OCI <c>created</c> state (set up, user code not yet running), or found by
/// <see cref="ContainerRuntime.GetAsync"/>. Disposing it kills and deletes it.
/// </summary>
/// <remarks>
/// With pipes for stdio, up to 1 MiB of each output stream is read ahead into memory, so a program that writes less
/// than that runs to its end while nobody reads (<see cref="WaitAsync"/> returns, the output waits in
/// <see cref="Stdout"/> and <see cref="Stderr"/>). A program that writes more blocks, as on any pipe, until the
/// caller reads: read both streams while waiting (<see cref="CollectAsync"/>, <see cref="ReadOutputLinesAsync"/>), or
/// create the container with <see cref="ContainerStdio.Null"/> or <see cref="ContainerStdio.Inherit"/>.
/// </remarks>
/// <example>
/// <code>
/// await using var runtime = await ContainerRuntime.OpenAsync();
/// await using var container = await runtime.CreateAsync(ContainerSpec.For("/bin/sh", "-c", "read x; echo $x"));
/// await container.StartAsync();
/// await container.Stdin.WriteAsync("hello\n"u8.ToArray());
/// await container.Stdin.CompleteAsync();
/// await foreach (var line in container.ReadOutputLinesAsync()) Console.WriteLine(line.Text);
/// var exit = await container.WaitAsync();
/// </code>
/// </example>
public sealed partial class Container : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;

    /// <summary>The grace period <see cref="StopAsync"/> gives a process after SIGTERM when none is given: 10 seconds, as Docker's.</summary>
    public static readonly TimeSpan DefaultStopGracePeriod = TimeSpan.FromSeconds(10);

    /// <summary>How long an exit waits for the output still in the pipes to reach the kept log.</summary>
    private static readonly TimeSpan LogDrainTimeout = TimeSpan.FromSeconds(2);

    private readonly StateDirectory _states;
    private readonly ILogger _logger;
    private readonly ContainerProcess? _process;
    private readonly StdioPipes? _stdio;
    private readonly bool _owner;
    private readonly Task<ContainerExit> _exit;
    private readonly ICgroup? _cgroup;
    private volatile bool _cgroupPooled;
    private readonly ICgroupDriver? _driver;
    private readonly ContainerRuntime? _runtime;
    private Task _logged = Task.CompletedTask;
    private readonly Lock _gate = new();
    private ContainerState _state;
    private bool _deleted;
    private bool _released;
    private int _started;

    /// <summary>
    /// Completed once <see cref="StartAsync"/> has recorded its start event (or failed): the exit of a program that ends
    /// at once may be seen before that, and its die must not come before its start in the events.
    /// </summary>
    private readonly TaskCompletionSource _startRecorded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether this is a run's container: started at creation, deleted right after its exit.</summary>
    private readonly bool _run;

    /// <summary>A run's die (and oom), recorded with its destroy in one write: a run ends with both at once.</summary>
    private ContainerEvent[]? _exitEvents;

    /// <summary>What ends the owner's watch that records OOM kills as they happen (<see cref="RecordOomKills"/>) at the exit.</summary>
    private CancellationTokenSource? _oomStop;

    /// <summary>The OOM kill count the last recorded <c>oom</c> event carried (under <see cref="_gate"/>).</summary>
    private long _oomRecorded;

    /// <summary>Whether the process's exit has been seen: no OOM watch starts after it.</summary>
    private bool _exitSeen;

    /// <summary>
    /// For a handle on a container another process (or another handle) owns, opened before the owner recorded its
    /// exit: the exit status is the owner's to write, and <see cref="WaitAsync"/> waits for it.
    /// </summary>
    private readonly bool _exitPending;

    /// <summary>
    /// Ends a handle's wait for the owner's record of the exit (<see cref="OwnerRecordedExitAsync"/>) when the handle
    /// is released. Not disposed: without a timer it holds nothing but memory, and the wait may still be using it.
    /// </summary>
    private readonly CancellationTokenSource _handleReleased = new();

    // run: a run's container. Its process goes on to exec by itself (the state says running from the start), a setup
    // failure surfaces from ThrowIfStartFailedAsync, and its exit is not written to the state, which the run deletes next.
    // started: its process went on to exec by itself too (ContainerRuntime.StartAsync); its creator records the
    // create and start and then calls StartRecorded, so its die is never recorded before them.
    // exitPending: another process owns it and its state did not say stopped when read (see _exitPending).
    internal Container(
        ContainerSpec spec, ContainerState state, ContainerProcess? process, StdioPipes? stdio, ContainerTerminal? terminal,
        bool owner, StateDirectory states, ILogger logger, ICgroup? cgroup = null, ICgroupDriver? driver = null, ContainerRuntime? runtime = null,
        bool run = false, bool exitPending = false, bool started = false)
    {
        _exitPending = !owner && exitPending;
        _run = run;
        _started = run || started ? 1 : 0;

        _runtime = runtime;
        _cgroup = cgroup;
        _driver = driver;
        Spec = spec;
        _state = state;
        _process = process;
        _stdio = stdio;
        Terminal = terminal;
        _owner = owner;
        _states = states;
        _logger = logger;
        _exit = TrackExitAsync();
    }

    /// <summary>The container's id, unique within its runtime's state directory.</summary>
    public string Id => _state.Id;

    /// <summary>The spec the container was created from.</summary>
    public ContainerSpec Spec { get; }

    /// <summary>The host pid of the container's first process (pid 1 inside its pid namespace), in its owner's pid namespace.</summary>
    public int Pid => _state.Pid;

    /// <summary>The current lifecycle state.</summary>
    public ContainerStatus Status
    {
        get
        {
            lock (_gate)
            {
                return _exit.IsCompleted ? ContainerStatus.Stopped : _state.Status;
            }
        }
    }

    /// <summary>What is known about the container now: status, pid, command, exit status.</summary>
    public ContainerInfo Info
    {
        get
        {
            lock (_gate)
            {
                return ContainerInfo.From(_exit.IsCompleted && _state.Status != ContainerStatus.Stopped ? _state with { Status = ContainerStatus.Stopped } : _state);
            }
        }
    }

    /// <summary>Called once when a container this runtime created releases its handles (deleted or disposed).</summary>
    internal Action<Container>? OnReleased { get; set; }

    /// <summary>The persisted state as last written.</summary>
    internal ContainerState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>The process's standard input; complete it to send end-of-file.</summary>
    /// <exception cref="InvalidOperationException">The container was not created with <see cref="ContainerStdio.Pipes"/>.</exception>
    public PipeWriter Stdin => _stdio?.Stdin ?? throw NoPipes();

    /// <summary>The process's standard output.</summary>
    /// <exception cref="InvalidOperationException">The container was not created with <see cref="ContainerStdio.Pipes"/>.</exception>
    public PipeReader Stdout => _stdio?.Stdout ?? throw NoPipes();

    /// <summary>The process's standard error.</summary>
    /// <exception cref="InvalidOperationException">The container was not created with <see cref="ContainerStdio.Pipes"/>.</exception>
    public PipeReader Stderr => _stdio?.Stderr ?? throw NoPipes();

    /// <summary>
    /// The pseudo-terminal when the spec asks for one (<c>process.terminal</c>), otherwise null. With a kept log
    /// (<see cref="ContainerCreateOptions.KeepLog"/>) its output goes to the log: write its input, leave its output.
    /// </summary>
    public ContainerTerminal? Terminal { get; }

    /// <summary>
    /// Reads standard output and standard error line by line, both at once, until the process closes them. It
    /// consumes <see cref="Stdout"/> and <see cref="Stderr"/>: use either this or the pipes themselves.
    /// </summary>
    /// <param name="cancellationToken">Stops reading.</param>
    public IAsyncEnumerable<OutputLine> ReadOutputLinesAsync(CancellationToken cancellationToken = default) =>
        OutputReader.ReadLinesAsync(Stdout, Stderr, cancellationToken);

    /// <summary>
    /// Reads standard output and standard error to their ends (both at once) and waits for the process to exit: the
    /// one-call form of a started container's output. Call it after <see cref="StartAsync"/>. Each stream keeps at
    /// most 16 MiB (the default of <see cref="ContainerRunOptions.MaxOutputBytes"/>): the rest is read and discarded,
    /// and <see cref="ContainerResult.StdoutTruncated"/> or <see cref="ContainerResult.StderrTruncated"/> says so.
    /// Read <see cref="Stdout"/> and <see cref="Stderr"/> yourself for more.
    /// </summary>
    /// <param name="cancellationToken">Stops reading and waiting; the container keeps running.</param>
    /// <exception cref="InvalidOperationException">The container was not created with <see cref="ContainerStdio.Pipes"/>.</exception>
    /// <example>
    /// <code>
    /// await container.StartAsync();
    /// var result = await container.CollectAsync();
    /// Console.Write(result.Stdout);
    /// </code>
    /// </example>
    public Task<ContainerResult> CollectAsync(CancellationToken cancellationToken = default) =>
        ContainerResult.CollectAsync(Stdout, Stderr, WaitAsync, cancellationToken);

    /// <summary>
    /// Reads the output log of a container created with <see cref="ContainerCreateOptions.KeepLog"/> (a detached
    /// one, also when another process owns it). With <paramref name="follow"/> it keeps reading new output until the
    /// container has stopped and all of its output has been read: its owner records the exit once the output still in
    /// the pipes has reached the log (waiting up to 2 seconds, since a process the container left running may hold
    /// them open).
    /// </summary>
    /// <param name="follow">Whether to wait for output written after the current end.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <exception cref="ContainersException">The container keeps no log.</exception>
    /// <example>
    /// <code>
    /// await foreach (var entry in container.ReadLogAsync(follow: true))
    ///     (entry.Stream == OutputStream.Stderr ? Console.Error : Console.Out).Write(entry.Text);
    /// </code>
    /// </example>
    public IAsyncEnumerable<ContainerLogEntry> ReadLogAsync(bool follow = false, CancellationToken cancellationToken = default)
    {
        var path = State.LogPath
            ?? throw new ContainersException($"container '{Id}' keeps no log: create it with ContainerCreateOptions.KeepLog (the CLI's 'run -d' does)");
        return ReadLogEntriesAsync(path, follow, cancellationToken);
    }

    /// <summary>Lets the created container run its user process (OCI <c>start</c>); returns once it has been executed.</summary>
    /// <param name="cancellationToken">Cancels waiting for the exec.</param>
    /// <exception cref="ContainerStatusException">The container is not in the <c>created</c> state.</exception>
    /// <exception cref="ContainerStartException">The exec failed (for example the program is not executable).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        // A child whose setup failed has stopped already: starting it then raises that failure, not a status error.
        if (_process is null || !_owner || Interlocked.Exchange(ref _started, 1) == 1)
        {
            throw new ContainerStatusException(Id, "start", Status, "only a container created by this runtime and not yet started can start");
        }

        try
        {
            try
            {
                await _process.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                RuntimeLog.ContainerStartFailed(_logger, e, Id);
                throw;
            }

            Update(s => s.Status == ContainerStatus.Created ? s with { Status = ContainerStatus.Running } : s);
            Record(Event(ContainerEventAction.Start));
            RecordOomKills();
        }
        finally
        {
            _startRecorded.TrySetResult();
        }

        RuntimeLog.ContainerStarted(_logger, Id, Pid);
    }

    /// <summary>
    /// For a container started at creation (a run's, or one of <see cref="ContainerRuntime.StartAsync(string?, ContainerSpec, ContainerCreateOptions?, CancellationToken)"/>):
    /// completes once its process has exec'd the program, or throws <see cref="ContainerStartException"/>
    /// with the failed setup step. A run waits for the exit first and asks this after: the error pipe's end of file
    /// is then already there, so the start costs no wake-up of its own.
    /// </summary>
    internal async Task ThrowIfStartFailedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _process!.WaitForExecAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            RuntimeLog.ContainerStartFailed(_logger, e, Id);
            throw;
        }
    }

    /// <summary>Waits until the container's process has exited and returns how it ended.</summary>
    /// <param name="cancellationToken">Stops waiting (the container keeps running).</param>
    /// <remarks>
    /// With a kept log (<see cref="ContainerCreateOptions.KeepLog"/>) it also waits until the output still in the pipes
    /// when the process ended is in the log, for at most 2 seconds (a process the container left running may hold the
    /// pipes open; what it writes later still reaches the log). On a
    /// handle from <see cref="ContainerRuntime.GetAsync"/> of a container another process owns, it waits until that
    /// owner has recorded how the process ended (only the owner learns it); when the owner died first, the status is
    /// unknown (both <see cref="ContainerExit.ExitCode"/> and <see cref="ContainerExit.Signal"/> null). When that owner
    /// is in another pid namespace (<see cref="ContainerInfo.OwnerInOtherPidNamespace"/>), neither it nor the process
    /// can be seen from here: this waits for the owner's record alone, which an owner killed first never writes (a
    /// runtime opened in the owner's namespace then removes the leftover, and this returns an unknown status).
    /// </remarks>
    // The exit is known once the kept log has what was in the pipes (TrackExitAsync).
    public Task<ContainerExit> WaitAsync(CancellationToken cancellationToken = default) => _exit.WaitAsync(cancellationToken);

    /// <summary>Sends <paramref name="signal"/> (a signal number, e.g. 15 for SIGTERM) to the container's first process.</summary>
    /// <param name="signal">The signal number.</param>
    /// <param name="cancellationToken">Not used beyond an early check; sending a signal does not block.</param>
    /// <exception cref="ContainerStatusException">The container has stopped.</exception>
    /// <exception cref="ContainerPidNamespaceException">The container's owner is in another pid namespace.</exception>
    public Task SignalAsync(int signal, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var status = Status;
        ThrowIfUnobservable(status, "signal");
        if (!status.CanKill() || _process is null)
        {
            throw new ContainerStatusException(Id, "signal", status, "its process has exited");
        }

        RuntimeLog.ContainerSignaled(_logger, Id, signal);
        Record(Event(ContainerEventAction.Kill) with { Signal = signal });
        _process.Signal(signal);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops the container's process gracefully: SIGTERM (or the image's <c>StopSignal</c>, <see cref="ContainerInfo.StopSignal"/>), then SIGKILL if it has not exited after
    /// <paramref name="gracePeriod"/>; returns how it ended. A stopped container is left as it is, and a created one
    /// (its program never ran) is killed at once.
    /// </summary>
    /// <param name="gracePeriod">How long the process may take to exit after SIGTERM; null for <see cref="DefaultStopGracePeriod"/>.</param>
    /// <param name="cancellationToken">Stops waiting; a process not yet killed is left as it is (SIGTERM has been sent).</param>
    /// <exception cref="ContainerPidNamespaceException">The container runs and its owner is in another pid namespace.</exception>
    /// <example>
    /// <code>
    /// var exit = await container.StopAsync(TimeSpan.FromSeconds(2));
    /// Console.WriteLine(exit); // "killed by signal 15", or "killed by signal 9" when it ignored SIGTERM
    /// </code>
    /// </example>
    public async Task<ContainerExit> StopAsync(TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default)
    {
        var grace = gracePeriod ?? DefaultStopGracePeriod;
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero, nameof(gracePeriod));
        var status = Status;
        ThrowIfUnobservable(status, "stop");
        if (!status.CanKill() || _process is null)
        {
            return await _exit.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (status == ContainerStatus.Created)
        {
            return await KillAsync(cancellationToken).ConfigureAwait(false);
        }

        // The image's StopSignal, as Docker's stop sends it (nginx stops gracefully on SIGQUIT).
        var signal = _state.StopSignal ?? SigTerm;
        RuntimeLog.ContainerStopping(_logger, Id, signal, grace.TotalMilliseconds);
        Record(Event(ContainerEventAction.Kill) with { Signal = signal });
        _process.Signal(signal);
        try
        {
            return await _exit.WaitAsync(grace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            RuntimeLog.ContainerStopEscalated(_logger, Id, grace.TotalMilliseconds);
            Record(Event(ContainerEventAction.Kill) with { Signal = SigKill });
            _process.Signal(SigKill);
            return await _exit.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Kills the container's process with SIGKILL (a stopped container is left as it is) and waits for it to end.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="ContainerPidNamespaceException">The container runs and its owner is in another pid namespace.</exception>
    public async Task<ContainerExit> KillAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUnobservable(Status, "kill");
        if (Status.CanKill() && _process is not null)
        {
            RuntimeLog.ContainerSignaled(_logger, Id, SigKill);
            Record(Event(ContainerEventAction.Kill) with { Signal = SigKill });
            _process.Signal(SigKill);
        }

        // Every process of the container, also those that left its pid namespace's tree or share the host's.
        if (_cgroup is not null && Status != ContainerStatus.Stopped)
        {
            await _cgroup.KillAllAsync(cancellationToken).ConfigureAwait(false);
        }

        return await _exit.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes the stopped container's state and releases its pipes (OCI <c>delete</c>); deleting twice is harmless.</summary>
    /// <param name="cancellationToken">Not used beyond an early check.</param>
    /// <exception cref="ContainerStatusException">The container still runs: kill it first, or dispose it.</exception>
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var status = Status;
        if (!status.CanDelete())
        {
            throw new ContainerStatusException(Id, "delete", status, "kill it first (KillAsync), or dispose it");
        }

        await ReleaseAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs another process inside the running container: it joins all of the container's namespaces and its root,
    /// with the user, cwd and environment of <paramref name="process"/>.
    /// </summary>
    /// <param name="process">What to run; relative program names are looked up in its <c>PATH</c> inside the container.</param>
    /// <param name="stdio">Where the new process's stdio goes.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="InvalidSpecException"><paramref name="process"/> has a problem, or sets what the runtime does
    /// not apply yet, or capabilities other than the container's (an exec gets the container's sets); each error names its field.</exception>
    /// <exception cref="ContainerStatusException">The container is not running.</exception>
    /// <exception cref="ContainerPidNamespaceException">The container's owner is in another pid namespace.</exception>
    public async Task<ContainerExec> ExecAsync(ProcessSpec process, ContainerStdio stdio = ContainerStdio.Pipes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(process);
        SpecValidator.ThrowIfInvalidForExec(process, Spec.Process);
        var status = Status;
        ThrowIfUnobservable(status, "exec in");
        if (status != ContainerStatus.Running || _process is null)
        {
            throw new ContainerStatusException(Id, "exec in", status, "start it first; exec needs a running container");
        }

        return await ContainerExec.StartAsync(this, _process, process, stdio, _logger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="args"/> inside the running container, with pipes for stdio and the user, cwd and
    /// environment of the container's own process.
    /// </summary>
    /// <param name="args">The program and its arguments; a relative program name is looked up in the container's <c>PATH</c>.</param>
    /// <exception cref="ContainerStatusException">The container is not running.</exception>
    /// <example>
    /// <code>
    /// await using var ps = await container.ExecAsync("ps", "-o", "pid,comm");
    /// Console.Write((await ps.CollectAsync()).Stdout);
    /// </code>
    /// </example>
    public Task<ContainerExec> ExecAsync(params string[] args) => ExecAsync(args, CancellationToken.None);

    /// <summary>Runs <paramref name="args"/> inside the running container, as <see cref="ExecAsync(string[])"/> does.</summary>
    /// <param name="args">The program and its arguments.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="ContainerStatusException">The container is not running.</exception>
    public Task<ContainerExec> ExecAsync(string[] args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0)
        {
            throw new ArgumentException("name the program to run: at least one argument", nameof(args));
        }

        var process = (Spec.Process ?? new ProcessSpec()) with { Args = [.. args], Terminal = false, ConsoleSize = null };
        return ExecAsync(process, ContainerStdio.Pipes, cancellationToken);
    }

    /// <summary>
    /// For a container this runtime created: kills it if it runs, waits for it, and deletes it. For one found with
    /// <see cref="ContainerRuntime.GetAsync"/>: only releases this handle (the container and its state stay).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_owner)
        {
            await ReleaseHandlesAsync().ConfigureAwait(false);
            return;
        }

        try
        {
            await KillAsync().ConfigureAwait(false);
        }
        finally
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Copies stdout and stderr, line by line, into the JSON-lines log at <paramref name="path"/>, rotated by
    /// <paramref name="options"/>; with a terminal its output instead, logged as stdout (a terminal has one stream,
    /// as Docker's json-file log records it).
    /// </summary>
    internal void KeepLog(string path, ContainerLogOptions options)
    {
        var log = ContainerLogWriter.Open(path, options);
        var gate = new SemaphoreSlim(1, 1);
        async ValueTask Append(OutputStream stream, string text, bool newline)
        {
            await gate.WaitAsync().ConfigureAwait(false);
            try
            {
                await log.AppendAsync(stream, newline ? text + "\n" : text, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }

        async Task PumpAsync()
        {
            try
            {
                await (Terminal is { } terminal
                    ? OutputReader.ForEachLineAsync(terminal.Output, (text, newline) => Append(OutputStream.Stdout, text, newline), CancellationToken.None)
                    : Task.WhenAll(
                        OutputReader.ForEachLineAsync(Stdout, (text, newline) => Append(OutputStream.Stdout, text, newline), CancellationToken.None),
                        OutputReader.ForEachLineAsync(Stderr, (text, newline) => Append(OutputStream.Stderr, text, newline), CancellationToken.None))).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // The pipes were released (the container was deleted) while output was still coming.
            }
            finally
            {
                await log.DisposeAsync().ConfigureAwait(false);
                gate.Dispose();
            }
        }

        _logged = Task.Run(PumpAsync);
    }

    /// <param name="change">The new state from the current one.</param>
    /// <param name="persist">Whether the state directory gets it too (false: in memory only).</param>
    internal void Update(Func<ContainerState, ContainerState> change, bool persist = true)
    {
        lock (_gate)
        {
            var next = change(_state);
            if (ReferenceEquals(next, _state))
            {
                return;
            }

            _state = next;
            if (persist && !_deleted && _owner)
            {
                try
                {
                    _states.Write(next);
                }
                catch (DirectoryNotFoundException)
                {
                    // Removed from outside (for example 'containers rm -f'): nothing left to update.
                    _deleted = true;
                }
                catch (Exception e) when (ContainersIOException.IsIO(e))
                {
                    throw ContainersIOException.From(e, $"writing the state of container '{Id}'", _states.FolderOf(Id));
                }
            }
        }
    }

    private async Task<ContainerExit> TrackExitAsync()
    {
        if (!_owner)
        {
            if (!_exitPending)
            {
                return new ContainerExit(_state.ExitCode, _state.Signal);
            }

            if (_process is not null)
            {
                await _process.Exited.ConfigureAwait(false);
            }

            return await OwnerRecordedExitAsync(_handleReleased.Token).ConfigureAwait(false);
        }

        var exit = await _process!.Exited.ConfigureAwait(false);
        var oomRecorded = StopRecordingOomKills();
        var kills = 0L;
        if (_cgroup is not null)
        {
            kills = _cgroup.OomKills;
            if (kills > 0)
            {
                RuntimeLog.ContainerOomKilled(_logger, Id, kills);
                exit = exit with { OomKilled = true };
            }
        }

        // A started program's exit can be seen before its start is recorded (by StartAsync, or by the creator of a
        // container released at creation, a run's included). The die's time is taken after that, so the journal
        // is in time order as well as in order. Every process that exits after being released has _started set.
        if (Volatile.Read(ref _started) == 1)
        {
            await _startRecorded.Task.ConfigureAwait(false);
        }

        // A kept log is complete before the die and the stopped state say the container ended: a reader in another
        // process follows the log until it sees them (Docker's daemon waits for its log copiers too). Bounded, since
        // a process the container left running may hold its output open.
        if (!_logged.IsCompleted)
        {
            await Task.WhenAny(_logged, Task.Delay(LogDrainTimeout)).ConfigureAwait(false);
        }

        // Kills the watch has not recorded (the one that ended the container, or all of them when it exited
        // before the watch began) come before its die, as Docker's oom does.
        var oom = kills > oomRecorded ? Event(ContainerEventAction.Oom) with { OomKills = kills } : null;
        var die = Event(ContainerEventAction.Die) with { ExitCode = exit.ExitCode, Signal = exit.Signal };
        ContainerEvent[] events = oom is not null ? [oom, die] : [die];
        if (_run)
        {
            lock (_gate)
            {
                _exitEvents = events;
            }
        }
        else
        {
            // The die before the stopped state: an owner killed between the two leaves a state that still says
            // running, whose die the sweep finds in the journal and does not record again. In the other order it
            // would leave a stopped state without a die, which no sweep records (a stopped state's owner has
            // recorded it, unless it died at that moment). Until the state is written a reader sees a running
            // container whose process has gone, which ContainerRuntime reads as stopped, and a handle of another
            // process waits for the stopped state (or the owner's end).
            Record(events);
        }

        // A run deletes the state right after: the exit status in it would be read by nobody.
        Update(s => s with { Status = ContainerStatus.Stopped, ExitCode = exit.ExitCode, Signal = exit.Signal }, persist: !_run);

        RuntimeLog.ContainerExited(_logger, Id, exit.ExitCode, exit.Signal);
        return exit;
    }

    /// <summary>
    /// For a handle whose container another process owns, once its process has gone: the exit status its owner
    /// records. Only the owner, its parent, learns it (by reaping), and writes it to the state a little later; the
    /// process's end alone says nothing of how it ended. So this waits, as long as the owner lives, for the state to
    /// say stopped. A state removed meanwhile (the owner deleted the container right after recording its exit, as
    /// <c>--rm</c> and a foreground run do) has the status in the die event the owner recorded; an owner that died
    /// first took the status with it (unknown: both null).
    /// </summary>
    private async Task<ContainerExit> OwnerRecordedExitAsync(CancellationToken released)
    {
        var owner = new ProcessIdentity(_state.OwnerPid, _state.OwnerStartTime);

        // An owner in another pid namespace is never seen gone (its pid means nothing here), and its container's
        // process gives no pidfd to wait on first: the state is read for the container's whole life, so less often.
        var observable = _state.IsObservableHere();
        var poll = observable ? TimeSpan.FromMilliseconds(10) : TimeSpan.FromMilliseconds(100);
        while (true)
        {
            // The owner's liveness first, then the state: an owner seen dead wrote its last state before that.
            var ownerGone = observable && !owner.IsAlive;
            var state = _states.TryRead(Id);
            if (state is null)
            {
                // A run's owner records the die with the destroy, just after removing the state: until the destroy
                // is there, the die may still come.
                var (die, destroyed) = await RecordedEndAsync(released).ConfigureAwait(false);
                if (die is not null || destroyed || ownerGone || released.IsCancellationRequested)
                {
                    return Stopped(_state, die?.ExitCode, die?.Signal);
                }
            }
            else if (state.Status == ContainerStatus.Stopped || ownerGone)
            {
                return Stopped(state, state.ExitCode, state.Signal);
            }

            try
            {
                await Task.Delay(poll, released).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return Stopped(state ?? _state, null, null);
            }
        }
    }

    /// <summary>
    /// Refuses an operation on the process of a container that may still run (<paramref name="status"/>, as this
    /// handle knows it) when its owner is in another pid namespace: its pid names another process here, or none.
    /// </summary>
    /// <exception cref="ContainerPidNamespaceException">It is so.</exception>
    private void ThrowIfUnobservable(ContainerStatus status, string operation)
    {
        var state = State;
        if (status.CanKill() && !state.IsObservableHere())
        {
            throw new ContainerPidNamespaceException(Id, operation, state.OwnerPid, state.OwnerPidNamespace);
        }
    }

    /// <summary>Takes <paramref name="state"/>, stopped with this exit status, as this handle's state.</summary>
    private ContainerExit Stopped(ContainerState state, int? exitCode, int? signal)
    {
        lock (_gate)
        {
            _state = state with { Status = ContainerStatus.Stopped, ExitCode = exitCode, Signal = signal };
            return new ContainerExit(exitCode, signal);
        }
    }

    /// <summary>
    /// The last die event with a known exit status recorded for this container since its creation (or null), and
    /// whether its destroy is recorded. A journal that cannot be read counts as destroyed: without it the status is unknown.
    /// </summary>
    private async Task<(ContainerEvent? Die, bool Destroyed)> RecordedEndAsync(CancellationToken cancellationToken)
    {
        ContainerEvent? die = null;
        var destroyed = false;
        try
        {
            await foreach (var e in _states.Events.ReadAsync(_state.Created, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false))
            {
                if (e.Id == Id && e.Action == ContainerEventAction.Die && e.ExitStatusKnown)
                {
                    die = e;
                }

                destroyed |= e.Id == Id && e.Action == ContainerEventAction.Destroy;
            }
        }
        catch (Exception e) when (e is OperationCanceledException || ContainersIOException.IsIO(e))
        {
            destroyed = true;
        }

        return (die, destroyed);
    }

    private async ValueTask ReleaseAsync(CancellationToken cancellationToken = default)
    {
        bool deleting;
        ContainerState state;
        lock (_gate)
        {
            deleting = !_deleted;
            state = _state;
        }

        // A copy from the stopped container (another process, perhaps) holds its directory's root lock while it has
        // the root mounted: the removal waits for it, and a copy after it finds the directory gone.
        using var storage = deleting && state.ContainerDirectory is { } directory
            ? await ContainerStorage.LockAsync(directory, cancellationToken).ConfigureAwait(false)
            : null;
        try
        {
            try
            {
                if (deleting && _cgroup is not null)
                {
                    // The owner hands it to its runtime's pool thread (a pooled cgroup's name says whose it is, and an
                    // id-named one is stale once the state goes: either way the next open's sweep finds a leftover);
                    // otherwise it goes before the state, so a cgroup that cannot be removed stays findable.
                    _cgroupPooled = _owner && _runtime?.CgroupPoolOrNull?.Release(_cgroup) == true;
                    if (!_cgroupPooled)
                    {
                        await _cgroup.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                lock (_gate)
                {
                    if (deleting && !_deleted)
                    {
                        // Marked deleted only once removed: a container whose own directory could not be removed
                        // keeps its state, and deleting it again retries.
                        _states.Remove(Id, _owner ? state : null);
                        _deleted = true;
                        Record([.. _exitEvents ?? [], Event(ContainerEventAction.Destroy)]);
                        RuntimeLog.ContainerDeleted(_logger, Id);
                    }
                }
            }
        }
        finally
        {
            await ReleaseHandlesAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask ReleaseHandlesAsync()
    {
        lock (_gate)
        {
            if (_released)
            {
                return;
            }

            _released = true;
        }

        await _handleReleased.CancelAsync().ConfigureAwait(false);
        OnReleased?.Invoke(this);
        if (!_cgroupPooled)
        {
            // A cgroup handed to the pool is the pool's to dispose, with the files it keeps open for the next container.
            _cgroup?.Dispose();
        }

        if (_stdio is not null)
        {
            await _stdio.DisposeAsync().ConfigureAwait(false);
        }

        if (Terminal is not null)
        {
            await Terminal.DisposeAsync().ConfigureAwait(false);
        }

        if (_process is not null)
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<ContainerLogEntry> ReadLogEntriesAsync(
        string path, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stopped = follow ? WaitAsync(cancellationToken) : null;
        await foreach (var record in ContainerLog.ReadAsync(path, follow, stopped, cancellationToken).ConfigureAwait(false))
        {
            yield return new ContainerLogEntry(record.Stream == "stderr" ? OutputStream.Stderr : OutputStream.Stdout, record.Log, record.Time);
        }
    }

    /// <summary>An event of this container, now.</summary>
    internal ContainerEvent Event(ContainerEventAction action) =>
        new(DateTimeOffset.UtcNow, Id, action) { Image = State.Image?.Reference };

    /// <summary>
    /// For a container started at creation: its create and start are recorded (or will never be), so its die may be.
    /// </summary>
    internal void StartRecorded() => _startRecorded.TrySetResult();

    /// <summary>Records <paramref name="events"/> in the state directory's events (<see cref="ContainerRuntime.WatchEventsAsync"/>).</summary>
    internal void Record(params ReadOnlySpan<ContainerEvent> events) => _states.Record(_logger, events);

    private static InvalidOperationException NoPipes() =>
        new("this container's stdio is not pipes: create it with ContainerCreateOptions.Stdio = ContainerStdio.Pipes and without a terminal");
}
