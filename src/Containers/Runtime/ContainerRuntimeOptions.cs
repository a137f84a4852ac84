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
    /// The image store containers made from images come from
    /// (<see cref="ContainerRuntime.CreateAsync(string?, string, ImageContainerOptions?, ContainerCreateOptions?, CancellationToken)"/>).
    /// Null opens the default store (<see cref="ImageStoreOptions.DefaultRoot"/>) when an image is first asked for.
    /// The runtime does not dispose it.
    /// </summary>
    public ImageStore? Images { get; init; }

    /// <summary>Where the runtime logs; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
