using Containers.Runtime.Plan;
using Containers.Spec;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Containers.Runtime;

/// <summary>
/// Creates, finds and runs containers. Containers live in this process: they die with it (even on SIGKILL), and
/// their state under <see cref="StateDirectory"/> lets other processes list, signal and kill them meanwhile.
/// Creating a runtime removes state left behind by processes that died without cleaning up.
/// </summary>
/// <example>
/// <code>
/// var runtime = new ContainerRuntime();
/// var result = await runtime.RunAsync(ContainerSpec.For("/bin/sh", "-c", "echo $$; hostname").WithHostname("box"));
/// Console.Write(result.Stdout); // "1\nbox\n"
/// </code>
/// </example>
public sealed class ContainerRuntime
{
    private readonly StateDirectory _states;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;

    /// <summary>Creates a runtime with the default state directory and no logging.</summary>
    public ContainerRuntime()
        : this(new ContainerRuntimeOptions())
    {
    }

    /// <summary>Creates a runtime with <paramref name="options"/>.</summary>
    /// <param name="options">The state directory and logger factory.</param>
    public ContainerRuntime(ContainerRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<ContainerRuntime>();
        _states = new StateDirectory(options.StateDirectory ?? Runtime.StateDirectory.DefaultRoot());
        _states.RemoveStale(_logger);
    }

    /// <summary>The folder holding one sub-folder of state per container.</summary>
    public string StateDirectory => _states.Root;

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
    public PreparedContainer Prepare(ContainerSpec spec, ContainerCreateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= ContainerCreateOptions.Default;
        spec.ThrowIfInvalid();
        if (options.KeepLog && (options.Stdio != ContainerStdio.Pipes || spec.Process?.Terminal == true))
        {
            throw new ContainersException("a kept log needs pipes for stdio and no terminal: set ContainerCreateOptions.Stdio = Pipes and process.terminal = false");
        }

        // The host rootfs's tmpfs goes on the state directory itself, in the child's mount namespace: a path every
        // start of this runtime shares, so the plan holds nothing per container.
        var plan = ContainerPlan.Compile(spec, options, _states.Root, HostView.Current);
        return new PreparedContainer(this, spec, options, plan);
    }

    internal async Task<Container> CreatePreparedAsync(string? id, PreparedContainer prepared, CancellationToken cancellationToken)
    {
        id ??= NewId();
        Runtime.StateDirectory.ValidateId(id);
        cancellationToken.ThrowIfCancellationRequested();
        var (spec, options, plan) = (prepared.Spec, prepared.Options, prepared.Plan);
        var folder = _states.FolderOf(id);

        var owner = ProcessIdentity.Current;
        var state = new ContainerState
        {
            Id = id,
            Status = ContainerStatus.Creating,
            Bundle = folder,
            Created = DateTimeOffset.UtcNow,
            OwnerPid = owner.Pid,
            OwnerStartTime = owner.StartTime,
            Command = [.. spec.Process!.Args],
            LogPath = options.KeepLog ? Path.Combine(folder, "container.log") : null,
            Init = options.Init,
        };
        _states.Claim(state);
        try
        {
            await spec.SaveAsync(Path.Combine(folder, "config.json"), cancellationToken).ConfigureAwait(false);
            var (process, stdio, terminal) = await ContainerProcess.LaunchAsync(plan, null, cancellationToken).ConfigureAwait(false);
            state = state with { Status = ContainerStatus.Created, Pid = process.Pid, PidStartTime = process.StartTime };
            _states.Write(state);
            _logger.LogDebug("container {Id} created: pid {Pid}", id, process.Pid);
            var container = new Container(spec, state, process, stdio, terminal, owner: true, _states, _loggers.CreateLogger<Container>());
            if (state.LogPath is { } log)
            {
                container.KeepLog(log);
            }

            return container;
        }
        catch
        {
            _states.Remove(id);
            throw;
        }
    }

    /// <summary>Creates a container with a random id, pipes for stdio and no init.</summary>
    /// <param name="spec">What to run and how to isolate it.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public Task<Container> CreateAsync(ContainerSpec spec, CancellationToken cancellationToken = default) =>
        CreateAsync(null, spec, null, cancellationToken);

    /// <summary>Lists the containers in the state directory, including those other processes own, oldest first.</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public Task<IReadOnlyList<ContainerState>> ListAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var states = _states.List();
        var current = new List<ContainerState>(states.Count);
        foreach (var state in states)
        {
            current.Add(Observed(state));
        }

        return Task.FromResult<IReadOnlyList<ContainerState>>(current);
    }

    /// <summary>
    /// Finds a container by id, also one another process owns, to signal, kill, exec into or delete it. Disposing
    /// the returned handle only releases the handle.
    /// </summary>
    /// <param name="id">The container's id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <exception cref="ContainerNotFoundException">No container has this id.</exception>
    public async Task<Container> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        Runtime.StateDirectory.ValidateId(id);
        cancellationToken.ThrowIfCancellationRequested();
        var state = Observed(_states.Read(id));
        var spec = await ContainerSpec.LoadAsync(Path.Combine(state.Bundle, "config.json"), cancellationToken).ConfigureAwait(false);
        var process = state.Status.CanKill() ? ContainerProcess.Attach(new ProcessIdentity(state.Pid, state.PidStartTime)) : null;
        return new Container(spec, state, process, stdio: null, terminal: null, owner: false, _states, _loggers.CreateLogger<Container>());
    }

    /// <summary>
    /// Runs <paramref name="spec"/> to completion: creates the container, starts it, collects its output, waits for
    /// it to exit and deletes it. Cancelling kills the container.
    /// </summary>
    /// <param name="spec">What to run and how to isolate it.</param>
    /// <param name="cancellationToken">Kills the container and stops waiting.</param>
    /// <example>
    /// <code>
    /// var result = await runtime.RunAsync(ContainerSpec.For("/bin/ls", "/proc"));
    /// if (result.ExitCode != 0) Console.Error.Write(result.Stderr);
    /// </code>
    /// </example>
    public async Task<ContainerResult> RunAsync(ContainerSpec spec, CancellationToken cancellationToken = default) =>
        await RunPreparedAsync(Prepare(spec), cancellationToken).ConfigureAwait(false);

    internal async Task<ContainerResult> RunPreparedAsync(PreparedContainer prepared, CancellationToken cancellationToken)
    {
        var container = await CreatePreparedAsync(null, prepared, cancellationToken).ConfigureAwait(false);
        await using (container.ConfigureAwait(false))
        {
            await container.Stdin.CompleteAsync().ConfigureAwait(false);
            var stdout = OutputReader.ReadToEndAsync(container.Stdout, cancellationToken);
            var stderr = OutputReader.ReadToEndAsync(container.Stderr, cancellationToken);
            try
            {
                await container.StartAsync(cancellationToken).ConfigureAwait(false);
                var exit = await container.WaitAsync(cancellationToken).ConfigureAwait(false);
                return new ContainerResult { Exit = exit, Stdout = await stdout.ConfigureAwait(false), Stderr = await stderr.ConfigureAwait(false) };
            }
            catch
            {
                // The readers end when the container's pipes close; their own errors add nothing to this one.
                await container.KillAsync(CancellationToken.None).ConfigureAwait(false);
                await ((Task)Task.WhenAll(stdout, stderr)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw;
            }
        }
    }

    /// <summary>The state as it is now: a created or running container whose process has gone is stopped.</summary>
    private static ContainerState Observed(ContainerState state) =>
        state.Status.CanKill() && !new ProcessIdentity(state.Pid, state.PidStartTime).IsAlive
            ? state with { Status = ContainerStatus.Stopped }
            : state;

    // 48 random bits from a Guid: its bytes come from the kernel's CSPRNG, as RandomNumberGenerator's do, without
    // loading OpenSSL, which costs a command-line run more than the rest of its start.
    private static string NewId() => Guid.NewGuid().ToString("N")[..12];
}
