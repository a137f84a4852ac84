using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>
/// What to run and how to isolate it, shaped exactly like the OCI runtime spec's <c>config.json</c>: the same
/// fields, names and meaning, so any OCI bundle's config reads into it and back. Build one with
/// <see cref="For(ReadOnlySpan{string})"/> and the <c>WithX</c> methods, or read one with
/// <see cref="FromJson(string)"/> / <see cref="LoadAsync"/>; check it with <see cref="Validate"/>.
/// </summary>
/// <remarks>
/// One convention goes beyond OCI, where <c>root</c> is required: a <see cref="Root"/> of null means the
/// <em>host rootfs</em>. The runtime then builds the root itself — a tmpfs with read-only binds of the host's
/// <c>/usr</c>, <c>/bin</c>, <c>/lib*</c> and <c>/etc</c> — so a container runs the host's programs with no image.
/// </remarks>
public sealed partial record ContainerSpec
{
    /// <summary>The OCI runtime spec version this library writes and follows.</summary>
    public const string CurrentOciVersion = "1.2.1";

    /// <summary>The version of the OCI runtime spec the config follows (<c>ociVersion</c>).</summary>
    public string OciVersion { get; init => field = value ?? ""; } = CurrentOciVersion;

    /// <summary>The program to run (<c>process</c>); a container cannot start without one.</summary>
    public ProcessSpec? Process { get; init; }

    /// <summary>
    /// The root filesystem (<c>root</c>), or null (or a root without a path) for the host rootfs: a tmpfs root with
    /// read-only binds of the host's <c>/usr</c>, <c>/bin</c>, <c>/lib*</c> and <c>/etc</c> (this library's default;
    /// OCI requires a root).
    /// </summary>
    public RootSpec? Root { get; init; }

    /// <summary>The hostname inside the container (<c>hostname</c>); needs a new <see cref="NamespaceType.Uts"/> namespace.</summary>
    public string? Hostname { get; init; }

    /// <summary>The NIS domain name inside the container (<c>domainname</c>); not set yet, so <see cref="Validate"/> refuses it.</summary>
    public string? Domainname { get; init; }

    /// <summary>Filesystems mounted into the container, in order (<c>mounts</c>).</summary>
    public ImmutableArray<MountSpec> Mounts { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Linux settings: namespaces, id mappings, masked paths (<c>linux</c>); null shares every namespace with the host.</summary>
    public LinuxSpec? Linux { get; init; }

    /// <summary>Programs run at points of the container's lifecycle (<c>hooks</c>); not run yet, so <see cref="Validate"/> refuses them.</summary>
    public Hooks? Hooks { get; init; }

    /// <summary>The section for Solaris containers (<c>solaris</c>), kept as JSON: this runtime runs Linux containers.</summary>
    public JsonElement? Solaris { get; init; }

    /// <summary>The section for Windows containers (<c>windows</c>), kept as JSON: this runtime runs Linux containers.</summary>
    public JsonElement? Windows { get; init; }

    /// <summary>The section for containers in virtual machines (<c>vm</c>), kept as JSON: this runtime runs Linux containers.</summary>
    public JsonElement? Vm { get; init; }

    /// <summary>The section for z/OS containers (<c>zos</c>), kept as JSON: this runtime runs Linux containers.</summary>
    public JsonElement? Zos { get; init; }

    /// <summary>The section for FreeBSD containers (<c>freebsd</c>), kept as JSON: this runtime runs Linux containers.</summary>
    [JsonPropertyName("freebsd")]
    public JsonElement? FreeBsd { get; init; }

    /// <summary>Free-form metadata (<c>annotations</c>), by convention keyed with reverse domain names.</summary>
    public ImmutableSortedDictionary<string, string> Annotations { get; init => field = Structural.OrEmpty(value); } =
        ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>The spec as one-line <c>config.json</c>, which shows every list's content (unlike a record's default).</summary>
    public override string ToString() => System.Text.Json.JsonSerializer.Serialize(this, SpecJsonContext.CompactSpec);

    /// <summary>Whether both specs have the same content, comparing lists by content and order.</summary>
    public bool Equals(ContainerSpec? other) =>
        other is not null && string.Equals(OciVersion, other.OciVersion, StringComparison.Ordinal)
        && Process == other.Process && Root == other.Root && string.Equals(Hostname, other.Hostname, StringComparison.Ordinal)
        && Structural.Equal(Mounts, other.Mounts) && Linux == other.Linux && Structural.Equal(Annotations, other.Annotations)
        && string.Equals(Domainname, other.Domainname, StringComparison.Ordinal) && Hooks == other.Hooks
        && Structural.Equal(Solaris, other.Solaris) && Structural.Equal(Windows, other.Windows) && Structural.Equal(Vm, other.Vm)
        && Structural.Equal(Zos, other.Zos) && Structural.Equal(FreeBsd, other.FreeBsd);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        OciVersion, Process, Root, Hostname, Structural.Hash(Mounts), Linux, Structural.Hash(Annotations), HashCode.Combine(Domainname, Hooks));
}
