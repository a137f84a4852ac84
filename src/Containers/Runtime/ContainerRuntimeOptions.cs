using Containers.Distribution;
using Containers.Images;
using Microsoft.Extensions.Logging;

namespace Containers.Runtime;

/// <summary>Settings of a <see cref="ContainerRuntime"/>.</summary>
public sealed record ContainerRuntimeOptions
{
    /// <summary>
    /// Where container state is kept (one folder per container). Null for the default: <c>/run/containers-net</c>
    /// as root, <c>$XDG_RUNTIME_DIR/containers-net</c> otherwise. Runtimes that share it see each other's containers.
    /// </summary>
    public string? StateDirectory { get; init; }

    /// <summary>
    /// Where containers with an <see cref="ContainerCreateOptions.Overlay"/> root keep their upper and work
    /// directories (one folder per container, on disk: a stopped container's changes stay until it is deleted).
    /// Null for the default: <c>containers/</c> below the default image store root
    /// (<see cref="ImageStoreOptions.DefaultRoot"/>). Use a folder on the same filesystem as the store when
    /// the store is elsewhere.
    /// </summary>
    public string? StorageDirectory { get; init; }

    /// <summary>
    /// The image store containers made from images come from
    /// (<see cref="ContainerRuntime.CreateFromImageAsync(string?, string, ImageContainerOptions?, CancellationToken)"/>).
    /// Null opens the default store (<see cref="ImageStoreOptions.DefaultRoot"/>) when an image is first asked for.
    /// The runtime does not dispose it. With a store and no <see cref="StorageDirectory"/>, containers keep their
    /// directories in <c>containers/</c> below the store's root, on the store's filesystem.
    /// </summary>
    public ImageStore? Images { get; init; }

    /// <summary>
    /// The client that pulls images into <see cref="Images"/> when <see cref="ImageContainerOptions.Pull"/> asks for
    /// it. Null makes one with the default options (Docker's credentials, TLS with the system's trust store) at the
    /// first pull; the runtime disposes only a client it made.
    /// </summary>
    /// <example>
    /// <code>
    /// using var registry = new RegistryClient(new RegistryClientOptions { CaCertificateFile = "/etc/ssl/our-ca.pem" });
    /// await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { Images = store, Registry = registry });
    /// </code>
    /// </example>
    public RegistryClient? Registry { get; init; }

    /// <summary>Where the runtime logs; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// How many network namespaces (loopback up) the runtime keeps made ahead, so that a start with a new network
    /// namespace joins one instead of paying for its creation (the largest single cost of such a start). A
    /// background thread fills the pool once the first such container is prepared or started, and stops when the
    /// runtime is disposed. Only starts without a new user namespace can join one (a root caller's, without id
    /// mappings); the others create their own. 0 turns the pool off: a process that starts one container and
    /// exits (a command-line tool) gains nothing from it. Default 4.
    /// </summary>
    /// <example>
    /// <code>
    /// await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { NetworkNamespacePoolSize = 16 });
    /// </code>
    /// </example>
    public int NetworkNamespacePoolSize { get; init; } = 4;

    /// <summary>
    /// How many empty cgroups (the standard device list already in place) a runtime keeps made ahead for containers
    /// with <c>linux.resources</c>, so that such a start only writes its limits, and a delete leaves its cgroup to a
    /// background thread, which recycles it on cgroup v1 (the directories that read as new ones' are renamed, up to
    /// twice this many ready) or removes it: making and removing a cgroup is most of what limits cost a start. The pool is filled
    /// once a second container with limits is created (a process that makes one gains nothing from it). 0 turns it off (a command-line tool that starts
    /// one container gains nothing from it). Default 4.
    /// </summary>
    /// <example>
    /// <code>
    /// await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { CgroupPoolSize = 16 });
    /// </code>
    /// </example>
    public int CgroupPoolSize { get; init; } = 4;

    /// <summary>
    /// Whether <see cref="ContainerRuntime.OpenAsync"/> clears what processes that died without cleaning up left
    /// behind: state entries whose owner and process are gone, cgroups and container directories no container owns
    /// any more. (A container a killed commit left frozen is thawed by every open.) Default true. False is for a
    /// short-lived reader that only
    /// lists (a command-line <c>ps</c>): its open reads nothing, and <see cref="ContainerRuntime.ListAsync"/> still
    /// removes and leaves out each leftover entry it meets; the rest waits for the next runtime opened with the
    /// default, or for <see cref="ContainerRuntime.SweepAsync"/> (which the command line's <c>run</c> and
    /// <c>create</c> call once their container exists, so that the sweep does not delay its start).
    /// </summary>
    /// <example>
    /// <code>
    /// await using var runtime = await ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { SweepOnOpen = false });
    /// foreach (var container in await runtime.ListAsync()) Console.WriteLine($"{container.Id} {container.Status}");
    /// </code>
    /// </example>
    public bool SweepOnOpen { get; init; } = true;

    /// <summary>
    /// The cgroup containers with <c>linux.resources</c> are placed below, relative to each hierarchy's root (for
    /// example <c>/containers</c>), or null for a cgroup named after the state directory below this process's own
    /// cgroup. It must not be a hierarchy's root, and no other runtime may share it: cgroups below it that no
    /// container of this state directory owns are removed as stale.
    /// </summary>
    public string? CgroupParent { get; init; }
}
