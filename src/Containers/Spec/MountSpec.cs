using System.Collections.Immutable;
using System.Globalization;

namespace Containers.Spec;

/// <summary>
/// One entry of <c>mounts</c>: a filesystem mounted at <see cref="Destination"/> inside the container, in list order.
/// </summary>
/// <example>
/// <code>
/// var data = MountSpec.Bind("/srv/data", "/data", readOnly: true);
/// var scratch = MountSpec.Tmpfs("/tmp", sizeBytes: 64 &lt;&lt; 20);
/// </code>
/// </example>
public sealed record MountSpec
{
    /// <summary>The absolute path inside the container (<c>destination</c>).</summary>
    public string Destination { get; init => field = value ?? ""; } = "";

    /// <summary>The filesystem type as <c>mount(2)</c> takes it (<c>type</c>): <c>bind</c>, <c>tmpfs</c>, <c>proc</c>, ….</summary>
    public string Type { get; init => field = value ?? ""; } = "";

    /// <summary>The device, directory or pseudo name to mount (<c>source</c>); for a bind, the host path.</summary>
    public string? Source { get; init; }

    /// <summary>
    /// Mount flags and filesystem data (<c>options</c>), as <c>mount(8)</c> spells them: <c>ro</c>, <c>nosuid</c>,
    /// <c>rbind</c>, <c>size=65536k</c>, ….
    /// </summary>
    public ImmutableArray<string> Options { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>User id mappings for an id-mapped mount (<c>uidMappings</c>): file owners seen through the mount are shifted.</summary>
    public ImmutableArray<LinuxIdMapping> UidMappings { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Group id mappings for an id-mapped mount (<c>gidMappings</c>).</summary>
    public ImmutableArray<LinuxIdMapping> GidMappings { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Whether this is a bind mount: type <c>bind</c>, or a <c>bind</c> or <c>rbind</c> option (as runc reads it).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsBind => Type == "bind" || Options.Contains("bind") || Options.Contains("rbind");

    /// <summary>A recursive bind mount of the host path <paramref name="source"/> at <paramref name="destination"/>.</summary>
    /// <param name="source">The absolute host path to bind.</param>
    /// <param name="destination">The absolute path inside the container.</param>
    /// <param name="readOnly">Whether the container may only read it.</param>
    public static MountSpec Bind(string source, string destination, bool readOnly = false) => new()
    {
        Destination = destination,
        Type = "bind",
        Source = source,
        Options = ["rbind", readOnly ? "ro" : "rw"],
    };

    /// <summary>A fresh <c>tmpfs</c> at <paramref name="destination"/> (<c>nosuid</c>, <c>nodev</c>, mode 1777).</summary>
    /// <param name="destination">The absolute path inside the container.</param>
    /// <param name="sizeBytes">The tmpfs size limit in bytes, or null for the kernel's default (half of RAM).</param>
    public static MountSpec Tmpfs(string destination, long? sizeBytes = null) => new()
    {
        Destination = destination,
        Type = "tmpfs",
        Source = "tmpfs",
        Options = sizeBytes is { } size
            ? ["nosuid", "nodev", "mode=1777", "size=" + size.ToString(CultureInfo.InvariantCulture)]
            : ["nosuid", "nodev", "mode=1777"],
    };

    /// <summary>Whether both mounts have the same destination, type, source, options and id mappings (in order).</summary>
    public bool Equals(MountSpec? other) =>
        other is not null && string.Equals(Destination, other.Destination, StringComparison.Ordinal)
        && string.Equals(Type, other.Type, StringComparison.Ordinal) && string.Equals(Source, other.Source, StringComparison.Ordinal)
        && Structural.Equal(Options, other.Options) && Structural.Equal(UidMappings, other.UidMappings)
        && Structural.Equal(GidMappings, other.GidMappings);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(Destination, Type, Source, Structural.Hash(Options), Structural.Hash(UidMappings), Structural.Hash(GidMappings));
}
