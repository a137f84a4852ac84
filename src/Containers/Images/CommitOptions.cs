using Containers.Images.Model;
using Containers.Spec;

namespace Containers.Images;

/// <summary>What <see cref="ImageStore.CommitAsync"/> records besides the layer: the name, the new config and the history entry.</summary>
/// <example>
/// <code>
/// var options = new CommitOptions
/// {
///     Tag = "myapp:1.1",
///     Author = "Ada &lt;ada@example.com&gt;",
///     Message = "add the configuration",
///     Config = new ContainerConfig { Cmd = ["/app/run"], Env = ["PATH=/usr/bin:/bin", "MODE=production"] },
/// };
/// </code>
/// </example>
public sealed record CommitOptions
{
    /// <summary>The name to give the new image (<c>name[:tag]</c>); null leaves it untagged (Docker's <c>&lt;none&gt;</c>).</summary>
    public string? Tag { get; init; }

    /// <summary>The image's author (config <c>author</c> and the history entry's); null keeps the base image's.</summary>
    public string? Author { get; init; }

    /// <summary>The history entry's <c>comment</c> (<c>docker commit -m</c>).</summary>
    public string? Message { get; init; }

    /// <summary>The history entry's <c>created_by</c>; default <c>containers commit</c>.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>
    /// Changes to the base image's process settings: every property set here (<c>Cmd</c>, <c>Entrypoint</c>,
    /// <c>Env</c>, <c>WorkingDir</c>, <c>User</c>, <c>ExposedPorts</c>, <c>Volumes</c>, <c>StopSignal</c>) replaces
    /// the base image's value; <c>Labels</c> are added to the base image's (a label of the same name is replaced).
    /// </summary>
    public ContainerConfig? Config { get; init; }

    /// <summary>
    /// The uid mappings the container ran with: owners in the upper directory are host ids and are recorded as the
    /// container's ids (an id no mapping covers becomes 65534). Null or empty: owners are recorded as they are.
    /// An owner recorded in a <c>user.rootlesscontainers</c> xattr (rootless stores) wins over both.
    /// </summary>
    public IReadOnlyList<LinuxIdMapping>? UidMappings { get; init; }

    /// <summary>The gid mappings the container ran with; see <see cref="UidMappings"/>.</summary>
    public IReadOnlyList<LinuxIdMapping>? GidMappings { get; init; }

    /// <summary>How the new layer is compressed: gzip (the default) or zstd (the base must be an OCI image, and libzstd present).</summary>
    public LayerCompressionFormat Compression { get; init; }

    /// <summary>Paths of the upper directory (<c>/run/secrets</c>) left out of the layer: a container's runtime-made mount points.</summary>
    internal IReadOnlySet<string>? Excluded { get; init; }
}
