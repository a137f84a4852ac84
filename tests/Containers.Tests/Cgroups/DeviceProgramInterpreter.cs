namespace Containers.Tests.Cgroups;

/// <summary>
/// Runs an eBPF cgroup device program on a <c>struct bpf_cgroup_dev_ctx</c> as the kernel would, for the
/// instructions such a program needs (32-bit moves, and, shift; word loads from the context; 32-bit conditional
/// jumps against a constant; exit). Written from the instruction set, independent of the compiler, and as strict as
/// the verifier where a mistake would hide: forward jumps only, inside the program; loads only of the context's three
/// words; no register read before it is written; every instruction reachable; every path ends in an exit with R0
/// 0 or 1.
/// </summary>
internal static class DeviceProgramInterpreter
{
    public const int Mknod = 1, Read = 2, Write = 4;
    public const int BlockDevice = 1, CharDevice = 2;

    /// <summary>Whether <paramref name="program"/> allows <paramref name="access"/> to the device.</summary>
    public static bool Allows(ulong[] program, int type, int access, uint major, uint minor)
    {
        CheckReachable(program);
        var context = new uint[] { (uint)((access << 16) | type), major, minor };
        var registers = new ulong?[11];
        registers[1] = 0; // the context pointer; loads are checked against it, not dereferenced
        for (var pc = 0; pc < program.Length; pc++)
        {
            var (opcode, dst, src, offset, imm) = Decode(program[pc]);
            ulong Get(int r) => registers[r] ?? throw new InvalidOperationException($"R{r} read before it was written, at {pc}");
            switch (opcode)
            {
                case 0x61: // dst = *(u32 *)(ctx + off)
                    Assert.Equal(1, src);
                    Assert.True(offset is 0 or 4 or 8, $"load outside the context at {pc}: {offset}");
                    registers[dst] = context[offset / 4];
                    break;
                case 0xbc: // w(dst) = w(src)
                    registers[dst] = (uint)Get(src);
                    break;
                case 0xb4: // w(dst) = imm
                    registers[dst] = (uint)imm;
                    break;
                case 0x54: // w(dst) &= imm
                    registers[dst] = (uint)Get(dst) & (uint)imm;
                    break;
                case 0x74: // w(dst) >>= imm
                    registers[dst] = (uint)Get(dst) >> imm;
                    break;
                case 0x56: // if w(dst) != imm goto +off
                case 0x16: // if w(dst) == imm goto +off
                    Assert.True(offset >= 0 && pc + 1 + offset < program.Length, $"jump out of the program at {pc}");
                    if (((uint)Get(dst) != (uint)imm) == (opcode == 0x56))
                    {
                        pc += offset;
                    }

                    break;
                case 0x95:
                    var verdict = Get(0);
                    Assert.True(verdict is 0 or 1, $"R0 is {verdict} at the exit at {pc}");
                    return verdict == 1;
                default:
                    throw new InvalidOperationException($"opcode 0x{opcode:x2} at {pc} is not one a device program uses");
            }
        }

        throw new InvalidOperationException("the program ran off its end");
    }

    private static (byte Opcode, int Dst, int Src, short Offset, int Imm) Decode(ulong instruction) =>
        ((byte)instruction, (int)(instruction >> 8) & 0xf, (int)(instruction >> 12) & 0xf, (short)(instruction >> 16), (int)(instruction >> 32));

    /// <summary>The verifier refuses a program with an instruction no path reaches.</summary>
    private static void CheckReachable(ulong[] program)
    {
        var reached = new bool[program.Length];
        var pending = new Stack<int>([0]);
        while (pending.Count > 0)
        {
            var pc = pending.Pop();
            if (pc >= program.Length || reached[pc])
            {
                continue;
            }

            reached[pc] = true;
            var (opcode, _, _, offset, _) = Decode(program[pc]);
            if (opcode == 0x95)
            {
                continue;
            }

            if (opcode is 0x56 or 0x16)
            {
                pending.Push(pc + 1 + offset);
            }

            pending.Push(pc + 1);
        }

        var unreachable = Array.IndexOf(reached, false);
        Assert.True(unreachable < 0, $"instruction {unreachable} is unreachable");
    }
}
