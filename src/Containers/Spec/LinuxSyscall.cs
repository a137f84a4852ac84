using System.Collections.Immutable;

namespace Containers.Spec;

/// <summary>One seccomp rule (<c>linux.seccomp.syscalls[]</c>): the action for the named system calls, optionally only for some arguments.</summary>
public sealed record LinuxSyscall
{
    /// <summary>The system call names the rule matches (<c>names</c>).</summary>
    public ImmutableArray<string> Names { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>The action (<c>action</c>), for example <c>SCMP_ACT_ALLOW</c>.</summary>
    public string Action { get; init => field = value ?? ""; } = "";

    /// <summary>The errno for <c>SCMP_ACT_ERRNO</c> or <c>SCMP_ACT_TRACE</c> (<c>errnoRet</c>).</summary>
    public uint? ErrnoRet { get; init; }

    /// <summary>Conditions on the arguments, all of which must hold (<c>args</c>).</summary>
    public ImmutableArray<LinuxSeccompArg> Args { get; init => field = Structural.OrEmpty(value); } = [];

    /// <summary>Whether both rules are the same, comparing lists by content and order.</summary>
    public bool Equals(LinuxSyscall? other) =>
        other is not null && Structural.Equal(Names, other.Names) && string.Equals(Action, other.Action, StringComparison.Ordinal)
        && ErrnoRet == other.ErrnoRet && Structural.Equal(Args, other.Args);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Structural.Hash(Names), Action, ErrnoRet, Structural.Hash(Args));
}
