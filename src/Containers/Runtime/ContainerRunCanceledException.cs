namespace Containers.Runtime;

/// <summary>
/// <see cref="ContainerRuntime.RunAsync(Containers.Spec.ContainerSpec, ContainerRunOptions?, CancellationToken)"/> was cancelled by its caller: the container was killed and deleted. It is
/// an <see cref="OperationCanceledException"/>, as every cancellation in .NET is, and carries what the process had
/// written until then.
/// </summary>
public sealed class ContainerRunCanceledException : OperationCanceledException
{
    /// <summary>Creates the error for a run cancelled by <paramref name="cancellationToken"/>.</summary>
    /// <param name="id">The container's id.</param>
    /// <param name="partialResult">The output until the cancellation and how the killed process ended.</param>
    /// <param name="cancellationToken">The token that cancelled the run.</param>
    public ContainerRunCanceledException(string id, ContainerResult partialResult, CancellationToken cancellationToken)
        : base($"the run of container '{id}' was cancelled: it was killed ({partialResult.Exit}); PartialResult has its output until then", cancellationToken)
    {
        Id = id;
        PartialResult = partialResult;
    }

    /// <summary>The container's id.</summary>
    public string Id { get; }

    /// <summary>The output until the cancellation, and how the killed process ended.</summary>
    public ContainerResult PartialResult { get; }
}
