using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>
/// A spec compiled once by <see cref="ContainerRuntime.Prepare"/>: every <see cref="CreateAsync"/> or
/// <see cref="RunAsync(ContainerRunOptions?, CancellationToken)"/> starts a new, identical container from the same start plan, skipping validation, the
/// program's lookup and compilation. What a harness that starts many identical sandboxes wants.
/// </summary>
/// <remarks>
/// The host's files are looked at when the container is prepared (is the program there, which folders does the
/// host rootfs bind): prepare again after changing them. Starts may run concurrently.
/// </remarks>
/// <example>
/// <code>
/// await using var runtime = await ContainerRuntime.OpenAsync();
/// var prepared = runtime.Prepare(ContainerSpec.For("/bin/sh", "-c", "echo $$"));
/// var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => prepared.RunAsync()));
/// </code>
/// </example>
public sealed class PreparedContainer
{
    private readonly ContainerRuntime _runtime;
    private readonly Func<bool, ContainerPlan> _compile;
    private ContainerPlan? _createPlan;
    private ContainerPlan? _runPlan;
    private byte[]? _configJson;

    /// <param name="runtime">The runtime that starts the containers.</param>
    /// <param name="spec">The validated spec.</param>
    /// <param name="options">Stdio and init.</param>
    /// <param name="compile">Compiles the start plan: with a wait for the start byte (true) or without (false).</param>
    internal PreparedContainer(ContainerRuntime runtime, ContainerSpec spec, ContainerCreateOptions options, Func<bool, ContainerPlan> compile)
    {
        _runtime = runtime;
        Spec = spec;
        Options = options;
        _compile = compile;
    }

    /// <summary>The spec every container starts from.</summary>
    public ContainerSpec Spec { get; }

    /// <summary>The stdio and init every container gets.</summary>
    public ContainerCreateOptions Options { get; }

    /// <summary>
    /// The start plan of a run (<paramref name="run"/>: the child goes on to exec by itself) or of a create (it waits,
    /// set up, for its start). Each is compiled once, on first use; two first uses at once compile it twice, alike.
    /// </summary>
    internal ContainerPlan PlanFor(bool run) => run ? _runPlan ??= _compile(false) : _createPlan ??= _compile(true);

    /// <summary>The spec as every container's <c>config.json</c> holds it, serialized once.</summary>
    internal byte[] ConfigJson => _configJson ??= Spec.ToJsonBytes();

    /// <summary>Creates a container in the OCI <c>created</c> state, as <see cref="ContainerRuntime.CreateAsync(string?, ContainerSpec, ContainerCreateOptions?, CancellationToken)"/> does.</summary>
    /// <param name="id">The container's id (a name), or null for a random one.</param>
    /// <param name="cancellationToken">Cancels the creation; nothing is left behind.</param>
    /// <exception cref="InvalidContainerIdException">The id is not a valid name.</exception>
    /// <exception cref="ContainerAlreadyExistsException">A container with this id exists.</exception>
    /// <exception cref="ContainerStartException">A setup step failed in the child; it names the step and errno.</exception>
    public Task<Container> CreateAsync(string? id = null, CancellationToken cancellationToken = default) =>
        _runtime.CreatePreparedAsync(id, this, cancellationToken);

    /// <summary>Creates and starts a container in one step, as <see cref="ContainerRuntime.StartAsync(string?, ContainerSpec, ContainerCreateOptions?, CancellationToken)"/> does.</summary>
    /// <param name="id">The container's id (a name), or null for a random one.</param>
    /// <param name="cancellationToken">Cancels the start; nothing is left behind.</param>
    /// <exception cref="InvalidContainerIdException">The id is not a valid name.</exception>
    /// <exception cref="ContainerAlreadyExistsException">A container with this id exists.</exception>
    /// <exception cref="ContainerStartException">A setup step or the exec failed in the child; it names the step and errno.</exception>
    public Task<Container> StartAsync(string? id = null, CancellationToken cancellationToken = default) =>
        _runtime.CreatePreparedAsync(id, this, cancellationToken, start: true);

    /// <summary>
    /// Runs a container to completion, as <see cref="ContainerRuntime.RunAsync(ContainerSpec, ContainerRunOptions?, CancellationToken)"/>
    /// does: input, timeout and output cap from <paramref name="options"/>.
    /// </summary>
    /// <param name="options">Input, timeout and output cap; null for <see cref="ContainerRunOptions.Default"/>.</param>
    /// <param name="cancellationToken">Kills the container at once and throws <see cref="ContainerRunCanceledException"/>, which carries the output until then.</param>
    /// <exception cref="ContainerStartException">A setup step failed in the child; it names the step and errno.</exception>
    public Task<ContainerResult> RunAsync(ContainerRunOptions? options = null, CancellationToken cancellationToken = default) =>
        _runtime.RunPreparedAsync(this, options ?? ContainerRunOptions.Default, cancellationToken);

    /// <summary>Runs a container to completion with <see cref="ContainerRunOptions.Default"/>.</summary>
    /// <param name="cancellationToken">Kills the container at once and throws <see cref="ContainerRunCanceledException"/>.</param>
    public Task<ContainerResult> RunAsync(CancellationToken cancellationToken) =>
        _runtime.RunPreparedAsync(this, ContainerRunOptions.Default, cancellationToken);
}
