using Containers.Spec;

namespace Containers.Runtime;

/// <summary>How <see cref="ContainerRuntime.CreateAsync(string?, ContainerSpec, ContainerCreateOptions?, CancellationToken)"/> wires up a container beyond what its spec says.</summary>
public sealed record ContainerCreateOptions
{
    /// <summary>The defaults: pipes for stdio, the user's process as pid 1.</summary>
    public static ContainerCreateOptions Default { get; } = new();

    /// <summary>Where stdio goes; ignored when the spec asks for a terminal (<c>process.terminal</c>).</summary>
    public ContainerStdio Stdio { get; init; } = ContainerStdio.Pipes;

    /// <summary>
    /// Whether the runtime writes the container's output to a JSON-lines log in its state folder
    /// (<see cref="ContainerState.LogPath"/>, read it with <see cref="ContainerLog.ReadAsync"/>) instead of exposing
    /// the output pipes. The log stays until the container is deleted. Needs <see cref="ContainerStdio.Pipes"/>.
    /// </summary>
    public bool KeepLog { get; init; }

    /// <summary>
    /// Whether a small init runs as pid 1 that reaps zombies and forwards signals to the user's process, for
    /// programs that start children and do not wait for them.
    /// </summary>
    public bool Init { get; init; }
}
