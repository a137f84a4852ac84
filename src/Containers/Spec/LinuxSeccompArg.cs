namespace Containers.Spec;

/// <summary>A condition on one system call argument (<c>linux.seccomp.syscalls[].args[]</c>).</summary>
public sealed record LinuxSeccompArg
{
    /// <summary>The argument's position, 0 to 5 (<c>index</c>).</summary>
    public uint Index { get; init; }

    /// <summary>The value compared against (<c>value</c>).</summary>
    public ulong Value { get; init; }

    /// <summary>The second value, for <c>SCMP_CMP_MASKED_EQ</c> (<c>valueTwo</c>).</summary>
    public ulong? ValueTwo { get; init; }

    /// <summary>The comparison (<c>op</c>), for example <c>SCMP_CMP_EQ</c>.</summary>
    public string Op { get; init => field = value ?? ""; } = "";
}
