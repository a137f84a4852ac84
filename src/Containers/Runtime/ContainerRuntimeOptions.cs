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

    /// <summary>Where the runtime logs; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// The cgroup containers with <c>linux.resources</c> are placed below, relative to each hierarchy's root (for
    /// example <c>/containers</c>), or null for a cgroup named after the state directory below this process's own
    /// cgroup. It must not be a hierarchy's root, and no other runtime may share it: cgroups below it that no
    /// container of this state directory owns are removed as stale.
    /// </summary>
    public string? CgroupParent { get; init; }
}
