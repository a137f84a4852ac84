using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>
/// A seccomp filter for the process (<c>linux.seccomp</c>), in the OCI (libseccomp) form: a default action and
/// rules by system call name. The runtime compiles it to a BPF filter that the process loads last before exec;
/// <c>Containers.Security.Seccomp.SeccompProfiles</c> has the default and sandbox profiles.
/// </summary>
public sealed record LinuxSeccomp
{
    /// <summary>What happens to a system call no rule matches (<c>defaultAction</c>), for example <c>SCMP_ACT_ERRNO</c>.</summary>
    public string DefaultAction { get; init => field = value ?? ""; } = "";

    /// <summary>The errno returned by a default <c>SCMP_ACT_ERRNO</c> or <c>SCMP_ACT_TRACE</c> (<c>defaultErrnoRet</c>).</summary>
    public uint? DefaultErrnoRet { get; init; }

    /// <summary>The architectures the filter covers (<c>architectures</c>), for example <c>SCMP_ARCH_X86_64</c>.</summary>
    public ImmutableArray<string> Architectures { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary><c>seccomp(2)</c> flags (<c>flags</c>), for example <c>SECCOMP_FILTER_FLAG_LOG</c>.</summary>
    public ImmutableArray<string> Flags { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>A UNIX socket that receives the filter's notify fd (<c>listenerPath</c>).</summary>
    public string? ListenerPath { get; init; }

    /// <summary>Opaque data passed to the listener (<c>listenerMetadata</c>).</summary>
    public string? ListenerMetadata { get; init; }

    /// <summary>The rules, first match wins (<c>syscalls</c>).</summary>
    public ImmutableArray<LinuxSyscall> Syscalls { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>
    /// Reads a profile from the JSON of an OCI <c>linux.seccomp</c> object (fields the spec does not define, such as
    /// Docker's <c>archMap</c> or <c>includes</c>, are ignored). Validation comes with the spec's.
    /// </summary>
    /// <exception cref="InvalidSpecException">The text is not JSON, or a field has the wrong type.</exception>
    /// <example>
    /// <code>
    /// var spec = ContainerSpec.For("/bin/sh").WithSeccomp(LinuxSeccomp.FromJson(File.ReadAllText("profile.json")));
    /// </code>
    /// </example>
    public static LinuxSeccomp FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(json, SpecJsonContext.Default.LinuxSeccomp) ?? throw ContainerSpec.NullDocument();
        }
        catch (System.Text.Json.JsonException e)
        {
            throw ContainerSpec.FromJsonException(e);
        }
    }

    /// <summary>Whether both filters are the same, comparing lists by content and order.</summary>
    public bool Equals(LinuxSeccomp? other) =>
        other is not null && string.Equals(DefaultAction, other.DefaultAction, StringComparison.Ordinal)
        && DefaultErrnoRet == other.DefaultErrnoRet && Structural.Equal(Architectures, other.Architectures)
        && Structural.Equal(Flags, other.Flags) && string.Equals(ListenerPath, other.ListenerPath, StringComparison.Ordinal)
        && string.Equals(ListenerMetadata, other.ListenerMetadata, StringComparison.Ordinal) && Structural.Equal(Syscalls, other.Syscalls);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        DefaultAction, DefaultErrnoRet, Structural.Hash(Architectures), Structural.Hash(Flags), ListenerPath, ListenerMetadata,
        Structural.Hash(Syscalls));
}
