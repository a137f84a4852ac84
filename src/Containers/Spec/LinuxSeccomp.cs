using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>
/// A seccomp filter for the process (<c>linux.seccomp</c>), in the OCI (libseccomp) form: a default action and
/// rules by system call name. Not applied by this runtime yet: <see cref="ContainerSpec.Validate"/> rejects it.
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
