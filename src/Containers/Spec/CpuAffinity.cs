namespace Containers.Spec;

/// <summary>
/// The CPUs a process exec'd into the container may run on (<c>process.execCPUAffinity</c>), as cpuset lists such
/// as <c>0-3,7</c>. Not applied by this runtime yet: <see cref="ContainerSpec.Validate"/> rejects it.
/// </summary>
public sealed record CpuAffinity
{
    /// <summary>The affinity while the runtime sets the process up (<c>initial</c>).</summary>
    public string? Initial { get; init; }

    /// <summary>The affinity the process runs with (<c>final</c>).</summary>
    public string? Final { get; init; }
}
