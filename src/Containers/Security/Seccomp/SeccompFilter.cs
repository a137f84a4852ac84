namespace Containers.Security.Seccomp;

/// <summary>
/// A compiled seccomp filter: the classic BPF program <c>seccomp(SECCOMP_SET_MODE_FILTER)</c> loads, and its
/// <c>SECCOMP_FILTER_FLAG_*</c> flags (with <c>NEW_LISTENER</c> when a rule notifies).
/// </summary>
internal sealed class SeccompFilter
{
    public const uint FlagTsync = 1;
    public const uint FlagLog = 2;
    public const uint FlagSpecAllow = 4;
    public const uint FlagNewListener = 8;
    public const uint FlagWaitKillableRecv = 32;

    public SeccompFilter(BpfInstruction[] instructions, uint flags)
    {
        Instructions = instructions;
        Flags = flags;
        Bytes = new byte[instructions.Length * 8];
        for (int i = 0; i < instructions.Length; i++)
        {
            instructions[i].WriteTo(Bytes.AsSpan(i * 8, 8));
        }
    }

    /// <summary>A filter from its program as <c>struct sock_filter[]</c> (one compiled before, <see cref="PrecompiledFilters"/>).</summary>
    public static SeccompFilter FromProgram(ReadOnlySpan<byte> program, uint flags)
    {
        var instructions = new BpfInstruction[program.Length / 8];
        for (var i = 0; i < instructions.Length; i++)
        {
            instructions[i] = BpfInstruction.ReadFrom(program.Slice(i * 8, 8));
        }

        return new SeccompFilter(instructions, flags);
    }

    public IReadOnlyList<BpfInstruction> Instructions { get; }

    /// <summary>The program as <c>struct sock_filter[]</c>.</summary>
    public byte[] Bytes { get; }

    public uint Flags { get; }

    /// <summary>Whether a rule sends calls to a user-space listener (<c>SCMP_ACT_NOTIFY</c>).</summary>
    public bool Notifies => (Flags & FlagNewListener) != 0;
}
