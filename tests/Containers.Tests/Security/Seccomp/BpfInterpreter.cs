using System.Buffers.Binary;

namespace Containers.Tests.Security.Seccomp;

/// <summary>
/// Runs a classic BPF seccomp program on a <c>struct seccomp_data</c> as the kernel does (net/core/filter.c's
/// checks: only forward jumps, loads inside the 64-byte data, a return at the end of every path). Written from the
/// instruction set, independent of the compiler, so a wrong jump or comparison shows as a wrong result.
/// </summary>
internal static class BpfInterpreter
{
    public const uint AuditArchX86_64 = 0xC000003E;
    public const uint AuditArchI386 = 0x40000003;
    public const uint AuditArchAarch64 = 0xC00000B7;

    public static uint Run(byte[] program, uint arch, uint nr, params ulong[] args) => Run(program, arch, nr, out _, args);

    /// <summary>Runs the program and counts the instructions it ran before its return (what the kernel pays per run).</summary>
    public static uint Run(byte[] program, uint arch, uint nr, out int steps, params ulong[] args)
    {
        var data = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(data, nr);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), arch);
        for (int i = 0; i < args.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16 + (8 * i)), args[i]);
        }

        int count = program.Length / 8;
        uint a = 0;
        steps = 0;
        for (int pc = 0; pc < count; pc++)
        {
            steps++;
            var insn = program.AsSpan(pc * 8, 8);
            ushort code = BinaryPrimitives.ReadUInt16LittleEndian(insn);
            byte jt = insn[2], jf = insn[3];
            uint k = BinaryPrimitives.ReadUInt32LittleEndian(insn[4..]);
            switch (code)
            {
                case 0x20: // BPF_LD | BPF_W | BPF_ABS
                    if (k > 60 || k % 4 != 0)
                    {
                        throw new InvalidOperationException($"load outside seccomp_data at {pc}: {k}");
                    }

                    a = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)k));
                    break;
                case 0x54: // BPF_ALU | BPF_AND | BPF_K
                    a &= k;
                    break;
                case 0x05: // BPF_JMP | BPF_JA
                    pc += (int)k;
                    break;
                case 0x15: // JEQ
                    pc += a == k ? jt : jf;
                    break;
                case 0x25: // JGT
                    pc += a > k ? jt : jf;
                    break;
                case 0x35: // JGE
                    pc += a >= k ? jt : jf;
                    break;
                case 0x45: // JSET
                    pc += (a & k) != 0 ? jt : jf;
                    break;
                case 0x06: // BPF_RET | BPF_K
                    return k;
                default:
                    throw new InvalidOperationException($"instruction {code:x} at {pc} is not one a seccomp filter uses here");
            }
        }

        throw new InvalidOperationException("the program ran off its end without a return");
    }
}
