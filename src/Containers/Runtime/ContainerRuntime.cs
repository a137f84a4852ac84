using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Containers.Cgroups;
using Containers.Images;
using Containers.Linux;
using Containers.Runtime.Plan;
using Containers.Spec;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Containers.Runtime;

/// <summary>
/// Creates, finds and runs containers. Containers live in this process: they die with it (even on SIGKILL), and
/// their state under <see cref="StateDirectory"/> lets other processes list, signal and kill them meanwhile.
/// Open one with <see cref="OpenAsync"/>, which also removes state left behind by processes that died without
/// cleaning up; disposing it kills and deletes the containers it created that are still there.
/// </summary>
/// <example>
/// <code>
/// await using var runtime = await ContainerRuntime.OpenAsync();
/// var result = await runtime.RunAsync(ContainerSpec.For("/bin/sh", "-c", "echo $$; hostname").WithHostname("box"));
/// Console.Write(result.Stdout); // "1\nbox\n"
/// </code>
/// </example>
public sealed partial class ContainerRuntime : IAsyncDisposable
{
    // The categories CreateLogger<T> would give, as constants: it spells the type's name by reflection, which a native
    // command line pays for at every start.
    private const string RuntimeLogCategory = $"{nameof(Containers)}.{nameof(Runtime)}.{nameof(ContainerRuntime)}";
    private const string ContainerLogCategory = $"{nameof(Containers)}.{nameof(Runtime)}.{nameof(Container)}";

    private readonly StateDirectory _states;
    private readonly ContainerStorage _storage;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Container, byte> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly string? _cgroupParent;
    private ICgroupDriver? _cgroups;
    private readonly int _cgroupPoolSize;
    private CgroupPool? _cgroupPool;
    private int _limitedCreates;
    private readonly int _networkPoolSize;
    private readonly Lock _networkPoolGate = new();
    private NetworkNamespacePool? _networkPool;
    private readonly RunPlans _runPlans;
    private int _disposed;

    private ContainerRuntime(StateDirectory states, ContainerStorage storage, ILoggerFactory loggers, int networkPoolSize, string? cgroupParent, int cgroupPoolSize)
    {
        _cgroupParent = cgroupParent;
        _cgroupPoolSize = cgroupPoolSize;
        _states = states;
        _storage = storage;
        _loggers = loggers;
        _networkPoolSize = networkPoolSize;
        _logger = loggers.CreateLogger(RuntimeLogCategory);
        _runPlans = new RunPlans((spec, reaps) => PrepareCore(spec, null, forRun: true, new PinnedReapingView(HostView.Current, reaps)));
    }

    /// <summary>The folder holding one sub-folder of state per container.</summary>
    public string StateDirectory => _states.Root;

    /// <summary>The folder holding the own directories (upper and work) of containers with an overlay root.</summary>
    public string StorageDirectory => _storage.Root;

    /// <summary>
    /// Opens a runtime on its state directory (creating it when missing) and, unless
    /// <see cref="ContainerRuntimeOptions.SweepOnOpen"/> is false, removes the state of containers whose owner and
    /// process have both gone, with the cgroups and directories nobody owns any more.
    /// </summary>
    /// <param name="options">The state directory and logger factory; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the opening.</param>
    /// <exception cref="ContainersIOException">The state directory cannot be created or read (for example permission denied).</exception>
    /// <example>
    /// <code>
    /// await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { LoggerFactory = loggerFactory });
    /// </code>
    /// </example>
    public static Task<ContainerRuntime> OpenAsync(ContainerRuntimeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ContainerRuntimeOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.NetworkNamespacePoolSize);
        ArgumentOutOfRangeException.ThrowIfNegative(options.CgroupPoolSize);
        cancellationToken.ThrowIfCancellationRequested();
        var loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var states = new StateDirectory(options.StateDirectory ?? Runtime.StateDirectory.DefaultRoot());
        var storage = options.StorageDirectory
            ?? (options.Images is { } images ? Path.Combine(images.Root, "containers") : ContainerStorage.DefaultRoot());
        var runtime = new ContainerRuntime(states, new ContainerStorage(storage), loggers, options.NetworkNamespacePoolSize, options.CgroupParent, options.CgroupPoolSize) { _images = options.Images, _registry = options.Registry };
        var removed = 0;
        try
        {
            // A container a killed commit left frozen is thawed by every open, also one without the sweeps: it is a
            // container in the wrong state, not garbage, and a listing would show it paused.
            foreach (var frozen in states.CommitFrozen())
            {
                runtime.ThawAbandonedCommit(frozen);
            }
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"thawing the containers of killed commits in {states.Root}", states.Root);
        }

        if (options.SweepOnOpen)
        {
            removed = runtime.Sweep();
        }

        RuntimeLog.RuntimeOpened(runtime._logger, states.Root, removed);
        return Task.FromResult(runtime);
    }

    /// <summary>
    /// Clears what processes that died without cleaning up left behind: state entries whose owner and process are
    /// gone, cgroups and container directories no container owns any more. <see cref="OpenAsync"/> does this unless
    /// <see cref="ContainerRuntimeOptions.SweepOnOpen"/> is false; a process that opened without it and wants its
    /// first container started sooner calls this afterwards (the command line's <c>run</c> does, while its
    /// container runs). Containers of live owners are never touched.
    /// </summary>
    /// <param name="cancellationToken">Cancels the sweep before it begins.</param>
    /// <returns>How many stale state entries were removed.</returns>
    /// <exception cref="ContainersIOException">The state directory cannot be read or an entry removed (for example permission denied).</exception>
    /// <example>
    /// <code>
    /// await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { SweepOnOpen = false });
    /// await using var container = await runtime.StartAsync("job", ContainerSpec.For("/bin/sleep", "5"));
    /// await runtime.SweepAsync();
    /// </code>
    /// </example>
    public Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Sweep());
    }

    private int Sweep()
    {
        try
        {
            var removed = _states.RemoveStale(_logger);
            RemoveStaleCgroups();
            _storage.RemoveOrphans(_states, _logger);
            return removed;
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"removing stale containers from {_states.Root}", _states.Root);
        }
    }

    /// <summary>
    /// Creates a container in the OCI <c>created</c> state: its process is set up (namespaces, root, mounts, user)
    /// and waits for <see cref="Container.StartAsync"/> before running the spec's program. The spec is validated
    /// and the program resolved inside the root filesystem before anything is created.
    /// </summary>
    /// <param name="id">The container's id (a name), or null for a random one.</param>
    /// <param name="spec">What to run and how to isolate it.</param>
    /// <param name="options">Stdio and init; null for <see cref="ContainerCreateOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels the creation; nothing is left behind.</param>
    /// <exception cref="InvalidSpecException">The spec has problems; all of them are listed.</exception>
    /// <exception cref="RootfsNotFoundException">The root filesystem directory does not exist.</exception>
    /// <exception cref="ExecutableNotFoundException">The program does not exist in the root filesystem.</exception>
    /// <exception cref="NotExecutableException">The program is a directory or has no execute permission.</exception>
    /// <exception cref="InvalidContainerIdException">The id is not a valid name.</exception>
    /// <exception cref="ContainerAlreadyExistsException">A container with this id exists.</exception>
    /// <exception cref="ContainerStartException">A setup step failed in the child; it names the step and errno.</exception>
    public async Task<Container> CreateAsync(
        string? id, ContainerSpec spec, ContainerCreateOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (id is not null)
        {
            Runtime.StateDirectory.ValidateId(id);
        }

        return await Prepare(spec, options).CreateAsync(id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates and starts a container in one step (OCI <c>create</c> then <c>start</c>, as <c>docker run -d</c>): its
    /// process runs the program as soon as it is set up instead of waiting, set up, for
    /// <see cref="Container.StartAsync"/>, which saves the round trip between the two. Returns once the program runs.
    /// The container is then as after <see cref="CreateAsync(string?, ContainerSpec, ContainerCreateOptions?, CancellationToken)"/>
    /// and <see cref="Container.StartAsync"/>: wait for it, signal it, read its output, dispose it to delete it.
    /// </summary>
    /// <remarks>
    /// Create and start separately when something must be in place before the program runs: a terminal attached to
    /// <see cref="Container.Terminal"/> for its first prompt, or a watch of <see cref="Container.WatchOomKillsAsync"/>
    /// that must see every kill.
    /// </remarks>
    /// <param name="id">The container's id (a name), or null for a random one.</param>
    /// <param name="spec">What to run and how to isolate it.</param>
    /// <param name="options">Stdio and init; null for <see cref="ContainerCreateOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels the start; nothing is left behind.</param>
    /// <exception cref="InvalidSpecException">The spec has problems; all of them are listed.</exception>
    /// <exception cref="RootfsNotFoundException">The root filesystem directory does not exist.</exception>
    /// <exception cref="ExecutableNotFoundException">The program does not exist in the root filesystem.</exception>
    /// <exception cref="NotExecutableException">The program is a directory or has no execute permission.</exception>
    /// <exception cref="InvalidContainerIdException">The id is not a valid name.</exception>
    /// <exception cref="ContainerAlreadyExistsException">A container with this id exists.</exception>
    /// <exception cref="ContainerStartException">A setup step or the exec failed in the child; it names the step and errno.</exception>
    /// <example>
    /// <code>
    /// await using var server = await runtime.StartAsync("web", ContainerSpec.For("/usr/bin/python3", "-m", "http.server"));
    /// // ... use it ...
    /// await server.StopAsync(TimeSpan.FromSeconds(5));
    /// </code>
    /// </example>
    public async Task<Container> StartAsync(
        string? id, ContainerSpec spec, ContainerCreateOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (id is not null)
        {
            Runtime.StateDirectory.ValidateId(id);
        }

        // The plan of a container released at creation only: the created one's would be compiled for nothing.
        return await PrepareCore(spec, options, forRun: true).StartAsync(id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Compiles <paramref name="spec"/> once into a <see cref="PreparedContainer"/> that starts any number of
    /// identical containers: validation, the program's lookup and the start plan are done here, not per start.
    /// </summary>
    /// <param name="spec">What to run and how to isolate it.</param>
    /// <param name="options">Stdio and init; null for <see cref="ContainerCreateOptions.Default"/>.</param>
    /// <exception cref="InvalidSpecException">The spec has problems; all of them are listed.</exception>
    /// <exception cref="RootfsNotFoundException">The root filesystem directory does not exist.</exception>
    /// <exception cref="ExecutableNotFoundException">The program does not exist in the root filesystem.</exception>
    /// <exception cref="NotExecutableException">The program is a directory or has no execute permission.</exception>
    /// <example>
    /// <code>
    /// var sandbox = runtime.Prepare(ContainerSpec.For("/usr/bin/python3", "-c", "print(6 * 7)"));
    /// for (var i = 0; i &lt; 1000; i++)
    /// {
    ///     var result = await sandbox.RunAsync();
    /// }
    /// </code>
    /// </example>
    public PreparedContainer Prepare(ContainerSpec spec, ContainerCreateOptions? options = null) => PrepareCore(spec, options, forRun: false);

    /// <summary>
    /// <see cref="Prepare(ContainerSpec, ContainerCreateOptions?)"/>, compiling at once the plan the first use needs:
    /// a run's (the child goes on to exec by itself) or a create's (it waits, set up, for its start). The other is
    /// compiled on first use.
    /// </summary>
    /// <param name="spec">The spec.</param>
    /// <param name="options">Stdio and init; null for the default.</param>
    /// <param name="forRun">Compile a run's plan now (true) or a create's.</param>
    /// <param name="host">The host's facts; null for <see cref="HostView.Current"/>.</param>
    internal PreparedContainer PrepareCore(ContainerSpec spec, ContainerCreateOptions? options, bool forRun, IHostView? host = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        options ??= ContainerCreateOptions.Default;
        spec.ThrowIfInvalid();
        if (options.KeepLog && options.Stdio != ContainerStdio.Pipes && spec.Process?.Terminal != true)
        {
            throw new ContainersException("a kept log needs the container's output: set ContainerCreateOptions.Stdio = Pipes (or process.terminal = true)");
        }

        ArgumentNullException.ThrowIfNull(options.Log);
        options.Log.Validate();

        // Limits are checked against this host before anything exists: a limit it cannot enforce is an error.
        var placement = CgroupPlacement.None;
        if (spec.Linux?.Resources is { } resources)
        {
            Cgroups.Validate(resources);
            placement = Cgroups.ClonesIntoCgroup ? CgroupPlacement.CloneInto : CgroupPlacement.JoinsItself;
        }

        host ??= HostView.Current;
        var prepared = new PreparedContainer(this, spec, options, waitsForStart => Compile(spec, options, placement, waitsForStart, host));
        _ = prepared.PlanFor(run: forRun);
        return prepared;
    }

    /// <summary>Compiles a container's start plan, and starts the network namespace pool when a start can use it.</summary>
    private ContainerPlan Compile(ContainerSpec spec, ContainerCreateOptions options, CgroupPlacement placement, bool waitsForStart, IHostView host)
    {
        // The host rootfs's tmpfs goes on the state directory itself, in the child's mount namespace: a path every
        // start of this runtime shares, so the plan holds nothing per container.
        ContainerPlan plan;
        try
        {
            plan = ContainerPlan.Compile(spec, options, _states.Root, host, pooledNetwork: _networkPoolSize > 0, cgroup: placement, waitsForStart,
                placement == CgroupPlacement.JoinsItself ? Cgroups.Hierarchies : null);
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"planning a container of {spec.Process!.Args[0]}");
        }

        if (plan.UsesPooledNetwork)
        {
            StartNetworkPool();
        }

        return plan;
    }

    /// <param name="id">The container's id, or null for a random one.</param>
    /// <param name="prepared">The compiled spec.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <param name="describe">Adds what the state keeps beyond the spec (the image a container was made from).</param>
    /// <param name="run">
    /// Whether the container starts at once as a run's (<see cref="RunAsync(ContainerSpec, ContainerRunOptions?, CancellationToken)"/>):
    /// its child goes on to exec without waiting for a start byte, the state is first written as running, whether the
    /// exec succeeded is asked once it has ended, and its exit is not written to its state, which the run deletes next.
    /// </param>
    /// <param name="start">
    /// Whether the container starts at once (<see cref="StartAsync(string?, ContainerSpec, ContainerCreateOptions?, CancellationToken)"/>):
    /// as a run's, but returned once its process has exec'd the program, and its exit written to its state.
    /// </param>
    internal async Task<Container> CreatePreparedAsync(
        string? id, PreparedContainer prepared, CancellationToken cancellationToken, Func<ContainerState, ContainerState>? describe = null, bool run = false, bool start = false)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        id ??= NewId();
        Runtime.StateDirectory.ValidateId(id);
        cancellationToken.ThrowIfCancellationRequested();
        // Released at once: the child goes on to exec by itself instead of waiting for a start (no round trip).
        var released = run || start;
        var (spec, options, plan) = (prepared.Spec, prepared.Options, prepared.PlanFor(released));
        var folder = _states.FolderOf(id);
        RuntimeLog.ContainerCreating(_logger, id, spec.Process!.Args);

        var owner = ProcessIdentity.Current;
        var state = new ContainerState
        {
            Id = id,
            Status = ContainerStatus.Creating,
            Bundle = folder,
            Created = DateTimeOffset.UtcNow,
            OwnerPid = owner.Pid,
            OwnerStartTime = owner.StartTime,
            OwnerPidNamespace = ProcessIdentity.CurrentPidNamespace,
            Command = [.. spec.Process!.Args],
            LogPath = options.KeepLog ? Path.Combine(folder, "container.log") : null,
            LogOptions = options.KeepLog ? options.Log : null,
            Init = options.Init,
            UidMappings = plan.Mapping?.Uids,
            GidMappings = plan.Mapping?.Gids,
        };
        state = describe?.Invoke(state) ?? state;
        if (options.Overlay is { } planned)
        {
            // Named in the first state written, before they exist: every later failure, and a crash, finds them to
            // remove (a folder or lease not made yet is nothing to remove).
            var directory = _storage.NewFolder(id);
            state = state with
            {
                ContainerDirectory = directory,
                LowerDirectories = planned.LowerDirectories,
                LeaseFile = planned is { Store: { } leaseStore, Image: not null } ? leaseStore.LeasePathFor(directory) : null,
            };
        }

        _states.Claim(state);
        ICgroup? cgroup = null;
        ICgroup? pooledCgroup = null;
        CgroupPool? cgroupPool = null;
        try
        {
            if (options.Overlay is { } overlay)
            {
                await CreateStorageAsync(state, overlay, cancellationToken).ConfigureAwait(false);
            }

            if (spec.Linux?.Resources is { } resources)
            {
                // Created after the claim: from here on the state names the id, so no stale sweep takes the cgroup.
                cgroupPool = CgroupPoolOrNull;
                pooledCgroup = cgroupPool?.TryTake(resources);
                cgroup = pooledCgroup ?? Cgroups.Create(id, resources);

                // A process that makes one container with limits gains nothing from cgroups made ahead; from the
                // second on, later starts take them.
                if (Interlocked.Increment(ref _limitedCreates) == 2)
                {
                    StartCgroupPool();
                }
                state = state with { Cgroup = cgroup.Paths };
            }

            // A network namespace made ahead when one is ready; otherwise the child clones its own.
            var netns = plan.UsesPooledNetwork ? _networkPool?.TryTake() : null;
            ContainerProcess process;
            StdioPipes? stdio;
            ContainerTerminal? terminal;
            try
            {
                (process, stdio, terminal) = await ContainerProcess.LaunchAsync(
                    plan.UsesPooledNetwork && netns is null ? plan.WithoutPooledNetwork : plan, null, netns, state.ContainerDirectory, cancellationToken, cgroup, spec.Process!.OomScoreAdj,
                    outputToExit: run && !options.KeepLog).ConfigureAwait(false);
            }
            finally
            {
                // Made after the launch, which returns once the child's mounts are done (the pools' docs say why).
                if (netns is not null)
                {
                    _networkPool!.Replenish();
                }

                if (pooledCgroup is not null)
                {
                    cgroupPool!.Replenish();
                }
            }

            // A released process goes on to exec by itself: running from here, in the one state write after the claim.
            state = state with { Status = released ? ContainerStatus.Running : ContainerStatus.Created, Pid = process.Pid, PidStartTime = process.StartTime };
            var container = new Container(
                spec, state, process, stdio, terminal, owner: true, _states, _loggers.CreateLogger(ContainerLogCategory), cgroup, cgroup is null ? null : Cgroups, this, run, started: start);
            try
            {
                // The spec is written while the child sets itself up, not before its clone; the state that names
                // the process comes after it, so a reader that sees the process sees its spec.
                _states.WriteConfig(id, prepared.ConfigJson);
                _states.Write(state);

                if (state.LogPath is { } log)
                {
                    container.KeepLog(log, options.Log);
                }
            }
            catch
            {
                container.StartRecorded();
                await container.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            Track(container);
            if (released)
            {
                try
                {
                    container.Record(container.Event(ContainerEventAction.Create), container.Event(ContainerEventAction.Start));
                }
                finally
                {
                    // A program that exits at once is seen exiting before this: its die waits for these.
                    container.StartRecorded();
                }

                container.RecordOomKills();
            }
            else
            {
                container.Record(container.Event(ContainerEventAction.Create));
            }

            RuntimeLog.ContainerCreated(_logger, id, process.Pid, netns is not null);
            if (start)
            {
                try
                {
                    await container.ThrowIfStartFailedAsync(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // Its process has ended (a failed setup or exec) or is killed (cancelled): deleted as a whole.
                    await container.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }

            if (released)
            {
                RuntimeLog.ContainerStarted(_logger, id, process.Pid);
            }

            return container;
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            await RemoveCgroupAsync(cgroup).ConfigureAwait(false);
            RemoveFailed(state);
            var error = ContainersIOException.From(e, $"creating container '{id}'", folder);
            RuntimeLog.ContainerCreateFailed(_logger, error, id);
            throw error;
        }
        catch (Exception e)
        {
            await RemoveCgroupAsync(cgroup).ConfigureAwait(false);
            RemoveFailed(state);
            if (e is not OperationCanceledException)
            {
                RuntimeLog.ContainerCreateFailed(_logger, e, id);
            }

            throw;
        }
    }

    /// <summary>The host's cgroup driver, detected on first use.</summary>
    /// <exception cref="CgroupException">The host has no cgroups, or the configured parent is a hierarchy's root.</exception>
    internal ICgroupDriver Cgroups => _cgroups ??= CgroupDriver.Detect(_cgroupParent, _states.Root);

    /// <summary>
    /// Removes the cgroups of containers that are gone (their owner died before it could delete them). Done where the
    /// process may write the cgroup tree; elsewhere there is nothing of ours to remove.
    /// </summary>
    private void RemoveStaleCgroups()
    {
        if (CgroupDriver.DetectLayout() is null)
        {
            return;
        }

        try
        {
            Cgroups.RemoveStale(name => CgroupPool.IsPooled(name) ? CgroupPool.IsOwnerAlive(name) : _states.TryRead(name) is not null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CgroupException)
        {
            RuntimeLog.StaleCgroupsNotRemoved(_logger, e);
        }
    }

    /// <summary>
    /// Creates the container's own directory (upper and work) and takes its lease on the image, both already named
    /// in its state.
    /// </summary>
    private async Task CreateStorageAsync(ContainerState state, OverlayRootfs overlay, CancellationToken cancellationToken)
    {
        _storage.Create(state.ContainerDirectory!, _states.Root, state.Id);
        if (overlay is { Store: { } store, Image: { } image })
        {
            var expected = overlay.Config is { } config ? (config, (IReadOnlyList<string>)overlay.LowerDirectories) : ((Digest, IReadOnlyList<string>)?)null;
            var lease = await store.LeaseAsync(image, expected, state.ContainerDirectory!, cancellationToken).ConfigureAwait(false);
            Debug.Assert(lease == state.LeaseFile, "the lease is where the state says");
        }
    }

    /// <summary>
    /// Thaws container <paramref name="id"/> when a commit froze it and was killed before it could thaw it: the
    /// marker the commit wrote before freezing names a process that is gone. A marker of a live commit, or no
    /// marker, leaves the container as it is. Returns whether it thawed.
    /// </summary>
    /// <remarks>
    /// A dead commit that was the container's owner also recorded it as paused: that status is set back to running
    /// (no one else writes the state of a container whose owner is gone). Thawing a cgroup that is not frozen (a
    /// commit killed between its marker and its freeze, or after its thaw) changes nothing.
    /// </remarks>
    internal bool ThawAbandonedCommit(string id)
    {
        // A commit in another pid namespace looks dead from here, live or not: it is left to that namespace's commands.
        if (_states.ReadCommitFreeze(id) is not (var committer, var pidNamespace) || !ProcessIdentity.SeesPidsOf(pidNamespace) || committer.IsAlive)
        {
            return false;
        }

        if (_states.TryRead(id) is { } state)
        {
            if (state.Cgroup is { } paths)
            {
                try
                {
                    Cgroups.Open(paths).Thaw();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or CgroupException)
                {
                    // Its cgroup is gone (the container was removed meanwhile): nothing is frozen any more.
                    RuntimeLog.AbandonedCommitNotThawed(_logger, e, id);
                }
            }

            if (state.Status == ContainerStatus.Paused && state.OwnerPid == committer.Pid && state.OwnerStartTime == committer.StartTime)
            {
                _states.Write(state with { Status = ContainerStatus.Running });
            }
        }

        _states.ClearCommitFreeze(id);
        RuntimeLog.AbandonedCommitThawed(_logger, id, committer.Pid);
        return true;
    }

    /// <summary>Removes what a failed creation made; a failure to do so is logged beside the creation's own error, never instead of it.</summary>
    private void RemoveFailed(ContainerState state)
    {
        try
        {
            Runtime.StateDirectory.ReleaseStorage(state);
            _states.Remove(state.Id);
        }
        catch (ContainersException e)
        {
            RuntimeLog.StorageRemoveFailed(_logger, e, state.Id);
        }
    }

    /// <summary>Creates a container with a random id, pipes for stdio and no init, as <see cref="CreateAsync(string?, ContainerSpec, ContainerCreateOptions?, CancellationToken)"/> does.</summary>
    /// <param name="spec">What to run and how to isolate it.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public Task<Container> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default) =>
        CreateAsync(null, spec, null, cancellationToken);

    /// <summary>
    /// Lists the containers in the state directory, including those other processes own, oldest first. A leftover of
    /// a host that died (its owner and process gone, no log kept) is not a container any more: it is removed here as
    /// the open-time sweep would, and not listed even while another process still holds it.
    /// </summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public Task<IReadOnlyList<ContainerInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var states = _states.List();
        var current = new List<ContainerInfo>(states.Count);
        foreach (var state in states)
        {
            if (_states.TryRemoveStale(state, _logger) == Runtime.StateDirectory.StaleEntry.Live)
            {
                current.Add(ContainerInfo.From(Observed(state)));
            }
        }

        return Task.FromResult<IReadOnlyList<ContainerInfo>>(current);
    }

    /// <summary>
    /// Finds a container by id, also one another process owns, to signal, kill, exec into or delete it. Disposing
    /// the returned handle only releases the handle.
    /// </summary>
    /// <remarks>
    /// When the owner is in another pid namespace than this process (<see cref="ContainerInfo.OwnerInOtherPidNamespace"/>),
    /// the handle's status is what the owner last recorded, and what needs the process (signals, stop, kill, exec, a
    /// copy into its running root) throws <see cref="ContainerPidNamespaceException"/>.
    /// </remarks>
    /// <param name="id">The container's id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <exception cref="ContainerNotFoundException">No container has this id.</exception>
    public async Task<Container> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        Runtime.StateDirectory.ValidateId(id);
        cancellationToken.ThrowIfCancellationRequested();
        var recorded = _states.Read(id);
        var state = Observed(recorded);
        ContainerSpec spec;
        try
        {
            spec = await ContainerSpec.LoadAsync(Path.Combine(state.Bundle, Runtime.StateDirectory.ConfigFile), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Deleted between reading its state and its spec.
            throw new ContainerNotFoundException(id, _states.Root);
        }
        catch (Exception e) when (ContainersIOException.IsIO(e))
        {
            throw ContainersIOException.From(e, $"reading the spec of container '{id}'", state.Bundle);
        }

        // A pidfd opened from another pid namespace's pid would name whatever process has that number here.
        var process = state.Status.CanKill() && state.IsObservableHere() ? ContainerProcess.Attach(new ProcessIdentity(state.Pid, state.PidStartTime)) : null;
        var cgroup = state.Cgroup is { } paths ? Cgroups.Open(paths) : null;
        return new Container(spec, state, process, stdio: null, terminal: null, owner: false, _states, _loggers.CreateLogger(ContainerLogCategory), cgroup, cgroup is null ? null : Cgroups, this,
            exitPending: recorded.Status.CanKill());
    }

    /// <summary>
    /// The containers' events (create, start, pause, unpause, kill, oom, die, destroy, update) as they happen, from
    /// every process on this state directory: this one, other programs embedding the library, the command line and
    /// its detached containers' monitors. Each process records what it does in the state directory's journal
    /// (<c>events.jsonl</c>), and this reads it, checking for new events ten times a second.
    /// </summary>
    /// <param name="since">Also replay the recorded events from this time on (the journal keeps about the last 5 000 to 10 000); null: only events from now on.</param>
    /// <param name="until">End with the events up to this time, once it has passed; null: until <paramref name="cancellationToken"/> is canceled.</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <remarks>
    /// An <c>oom</c> event is recorded for each OOM kill as it happens, by the process that owns the container (also
    /// kills that do not end it), carrying the kernel's count so far; a kill that ends it is recorded right before its
    /// <c>die</c>. For a container whose owner was killed (SIGKILL) before its process ended, the runtime that removes
    /// its leftovers (an open, a <see cref="ListAsync"/>) records its <c>die</c>, with an unknown exit status
    /// (<see cref="ContainerEvent.ExitStatusKnown"/>), and its <c>destroy</c>. A <see cref="RunAsync(ContainerSpec, ContainerRunOptions?, CancellationToken)"/>
    /// writes its <c>create</c> and <c>start</c> together and its <c>die</c> (stamped with the exit's time) together
    /// with its <c>destroy</c>, once its output is collected: two appends per run (each about 35 µs on this machine's
    /// ext4 <c>/run</c> under load).
    /// </remarks>
    /// <example>
    /// <code>
    /// await foreach (var e in runtime.WatchEventsAsync(cancellationToken: token))
    ///     if (e.Action == ContainerEventAction.Die) Console.WriteLine($"{e.Id} exited: {e.ExitCode}");
    /// </code>
    /// </example>
    public IAsyncEnumerable<ContainerEvent> WatchEventsAsync(DateTimeOffset? since = null, DateTimeOffset? until = null, CancellationToken cancellationToken = default) =>
        _states.Events.ReadAsync(since, until, cancellationToken);

    /// <summary>
    /// Runs <paramref name="spec"/> to completion: creates the container, starts it, feeds it
    /// <see cref="ContainerRunOptions.Stdin"/>, collects its output (up to <see cref="ContainerRunOptions.MaxOutputBytes"/>
    /// per stream), waits for it to exit, and deletes it. When <see cref="ContainerRunOptions.Timeout"/> expires the
    /// process is stopped (SIGTERM, then SIGKILL after <see cref="ContainerRunOptions.StopGracePeriod"/>) and the
    /// result says <see cref="ContainerResult.TimedOut"/>, with the output written until then.
    /// </summary>
    /// <remarks>
    /// The spec is validated and compiled on its first run; running the same spec object again reuses that work, as
    /// <see cref="Prepare"/> does (specs are immutable), for as long as the caller holds the spec. A reused start that
    /// fails compiles the spec again, so a program or rootfs removed since is reported as on a first run.
    /// </remarks>
    /// <param name="spec">What to run and how to isolate it.</param>
    /// <param name="options">Input, timeout and output cap; null for <see cref="ContainerRunOptions.Default"/>.</param>
    /// <param name="cancellationToken">Kills the container at once and throws <see cref="ContainerRunCanceledException"/>, which carries the output until then.</param>
    /// <exception cref="InvalidSpecException">The spec has problems; all of them are listed.</exception>
    /// <exception cref="ContainerStartException">A setup step failed in the child; it names the step and errno.</exception>
    /// <example>
    /// <code>
    /// var result = await runtime.RunAsync(ContainerSpec.For("/bin/sh", "-c", "read a b; echo $((a + b))"),
    ///     new ContainerRunOptions { Stdin = "3 4\n"u8.ToArray(), Timeout = TimeSpan.FromSeconds(2) });
    /// if (result.TimedOut || result.ExitCode != 0) Console.Error.Write(result.Stderr);
    /// else Console.Write(result.Stdout); // "7\n"
    /// </code>
    /// </example>
    public async Task<ContainerResult> RunAsync(ContainerSpec spec, ContainerRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= ContainerRunOptions.Default;
        var prepared = _runPlans.Get(spec, out var reused);
        try
        {
            return await RunPreparedAsync(prepared, options, cancellationToken).ConfigureAwait(false);
        }
        catch (ContainerStartException) when (reused)
        {
            // The plan looked at the host's files for an earlier run; a failed start may be a change since. Compiled
            // again, a spec the host no longer fits fails with a first run's error, and the next run gets a new plan.
            _runPlans.Recheck(spec);
            throw;
        }
    }

    internal async Task<ContainerResult> RunPreparedAsync(PreparedContainer prepared, ContainerRunOptions options, CancellationToken cancellationToken)
    {
        options.Validate();
        var container = await CreatePreparedAsync(options.Id, prepared, cancellationToken, run: true).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            return await new ContainerRun(container, options, _logger).RunAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The prepared containers of the specs <see cref="RunAsync(ContainerSpec, ContainerRunOptions?, CancellationToken)"/> ran.</summary>
    internal RunPlans RunPlans => _runPlans;

    /// <summary>Runs <paramref name="spec"/> to completion with <see cref="ContainerRunOptions.Default"/>.</summary>
    /// <param name="spec">What to run and how to isolate it.</param>
    /// <param name="cancellationToken">Kills the container at once and throws <see cref="ContainerRunCanceledException"/>.</param>
    public Task<ContainerResult> RunAsync(ContainerSpec spec, CancellationToken cancellationToken) =>
        RunAsync(spec, null, cancellationToken);

    /// <summary>
    /// Kills and deletes every container this runtime created that has not been disposed or deleted yet. Containers
    /// other processes own, and handles from <see cref="GetAsync"/>, are left alone.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var alive = _owned.Keys.ToList();
        foreach (var container in alive)
        {
            await container.DisposeAsync().ConfigureAwait(false);
        }

        if (NetworkPool is { } pool)
        {
            await pool.DisposeAsync().ConfigureAwait(false);
        }

        if (CgroupPoolOrNull is { } cgroupPool)
        {
            await cgroupPool.DisposeAsync().ConfigureAwait(false);
        }

        _cgroups?.RemoveEmptyParent();
        DisposeOwnRegistry();
        RuntimeLog.RuntimeDisposed(_logger, alive.Count);
    }

    /// <summary>The pool of network namespaces made ahead, once a start could use it (null before).</summary>
    internal NetworkNamespacePool? NetworkPool
    {
        get
        {
            lock (_networkPoolGate)
            {
                return _networkPool;
            }
        }
    }

    /// <summary>The cgroups made ahead for containers with limits, once two were created (null before, or with the pool off).</summary>
    internal CgroupPool? CgroupPoolOrNull
    {
        get
        {
            lock (_networkPoolGate)
            {
                return _cgroupPool;
            }
        }
    }

    /// <summary>Starts filling the pool of cgroups when a second container with limits is created.</summary>
    private void StartCgroupPool()
    {
        lock (_networkPoolGate)
        {
            if (_cgroupPool is null && _cgroupPoolSize > 0 && _disposed == 0)
            {
                _cgroupPool = new CgroupPool(Cgroups, _cgroupPoolSize, e => RuntimeLog.CgroupPoolFailed(_logger, e));
            }
        }
    }

    /// <summary>Starts filling the pool of network namespaces the first time a prepared start can use one.</summary>
    private void StartNetworkPool()
    {
        lock (_networkPoolGate)
        {
            if (_networkPool is null && _disposed == 0)
            {
                _networkPool = new NetworkNamespacePool(_networkPoolSize);
                _networkPool.Start();
            }
        }
    }

    /// <summary>Removes a cgroup a failed create made (its process, if any, is already gone).</summary>
    private async Task RemoveCgroupAsync(ICgroup? cgroup)
    {
        if (cgroup is null)
        {
            return;
        }

        try
        {
            await cgroup.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (CgroupException e)
        {
            // Reported beside the create's own error; the next runtime open sweeps it.
            RuntimeLog.StaleCgroupsNotRemoved(_logger, e);
        }
    }

    private void Track(Container container)
    {
        _owned.TryAdd(container, 0);
        container.OnReleased = c => _owned.TryRemove(c, out _);
    }

    /// <summary>
    /// A state as the kernel shows it now: stopped once its process is gone, and paused or running as its cgroup's
    /// freezer says (a pause by a process that does not own the container is not written to its state). The process
    /// of an owner in another pid namespace cannot be seen from here (<see cref="ContainerState.IsObservableHere()"/>):
    /// its status stays what the owner recorded, never stopped for a pid that means nothing here. Its cgroup is named
    /// by a path, not a pid: its freezer reads the same from any pid namespace.
    /// </summary>
    private static ContainerState Observed(ContainerState state)
    {
        if (state.Status.CanKill() && state.IsObservableHere() && !new ProcessIdentity(state.Pid, state.PidStartTime).IsAlive)
        {
            return state with { Status = ContainerStatus.Stopped };
        }

        if (state.Status is ContainerStatus.Running or ContainerStatus.Paused && state.Cgroup is { } paths)
        {
            // The kernel's word on a pause, which any process may have made (a container paused by one process is
            // resumed by another).
            using var cgroup = CgroupDriver.Open(paths);
            var status = cgroup.IsFrozen ? ContainerStatus.Paused : ContainerStatus.Running;
            return status == state.Status ? state : state with { Status = status };
        }

        return state;
    }

    // 48 random bits from a Guid: its bytes come from the kernel's CSPRNG, as RandomNumberGenerator's do, without
    // loading OpenSSL, which costs a command-line run more than the rest of its start.
    private static string NewId() => Guid.NewGuid().ToString("N")[..12];
}
