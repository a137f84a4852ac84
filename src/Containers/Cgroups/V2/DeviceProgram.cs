using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>
/// Device rules compiled into a <c>BPF_PROG_TYPE_CGROUP_DEVICE</c> program, cgroup v2's device controller. The
/// kernel runs it on every mknod and open of a device node by a process of the cgroup, with
/// <c>struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }</c> (access in the high 16 bits of
/// <c>access_type</c>, the device type in the low ones); 1 allows, 0 denies with EPERM.
/// </summary>
/// <remarks>
/// <para>The rules mean what v1's <c>devices.allow</c>/<c>devices.deny</c> lists mean when written in order after
/// "deny all": the last rule that matches decides, nothing matching denies. The program tests the rules from the
/// last to the first and returns at the first match. An allow rule matches a request whose every access it allows
/// (open for read and write under an "r" rule falls through to the earlier rules, as v1 refuses it); a deny rule
/// matches a request that asks for any access it denies.</para>
/// <para>A rule that matches everything ends the program: the verifier refuses unreachable instructions, so the
/// rules before it and the final "deny" are left out.</para>
/// </remarks>
internal static class DeviceProgram
{
    // The kernel's BPF_DEVCG_* values.
    private const int AccessMknod = 1;
    private const int AccessRead = 2;
    private const int AccessWrite = 4;
    private const int AccessAll = AccessMknod | AccessRead | AccessWrite;
    private const uint TypeBlock = 1;
    private const uint TypeChar = 2;

    // Registers: R1 the context; R2 the access asked for, R3 the device type, R4 major, R5 minor; R6 scratch; R0 the verdict.
    private const byte R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6;

    // Opcodes (class | operation | source).
    private const byte LoadWord = 0x61;   // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
    private const byte Move32Reg = 0xbc;  // BPF_ALU | BPF_MOV | BPF_X
    private const byte Move32Imm = 0xb4;  // BPF_ALU | BPF_MOV | BPF_K
    private const byte And32Imm = 0x54;   // BPF_ALU | BPF_AND | BPF_K
    private const byte Shift32Imm = 0x74; // BPF_ALU | BPF_RSH | BPF_K
    private const byte JumpNe32Imm = 0x56; // BPF_JMP32 | BPF_JNE | BPF_K: compares the low 32 bits
    private const byte JumpEq32Imm = 0x16; // BPF_JMP32 | BPF_JEQ | BPF_K
    private const byte Exit = 0x95;       // BPF_JMP | BPF_EXIT

    /// <summary>
    /// The program for <paramref name="rules"/> (in spec order, the standard allow list first when the caller wants
    /// it): one 8-byte instruction each, as bpf(2) takes them on a little-endian machine.
    /// </summary>
    public static ulong[] Compile(IReadOnlyList<LinuxDeviceCgroup> rules)
    {
        var program = new List<ulong>
        {
            Instruction(LoadWord, R2, R1, 0, 0),
            Instruction(Move32Reg, R3, R2, 0, 0),
            Instruction(And32Imm, R3, 0, 0, 0xffff),
            Instruction(Shift32Imm, R2, 0, 0, 16),
            Instruction(LoadWord, R4, R1, 4, 0),
            Instruction(LoadWord, R5, R1, 8, 0),
        };

        for (var i = rules.Count - 1; i >= 0; i--)
        {
            var tests = Tests(rules[i]);
            // Every failed test jumps past the rest of this rule's block: its tests, then the verdict and exit.
            var remaining = tests.Sum(t => t.Length) + 2;
            foreach (var test in tests)
            {
                remaining -= test.Length;
                program.AddRange(test.Emit((short)remaining));
            }

            program.Add(Instruction(Move32Imm, R0, 0, 0, rules[i].Allow ? 1 : 0));
            program.Add(Instruction(Exit, 0, 0, 0, 0));
            if (tests.Count == 0)
            {
                return [.. program];
            }
        }

        program.Add(Instruction(Move32Imm, R0, 0, 0, 0));
        program.Add(Instruction(Exit, 0, 0, 0, 0));
        return [.. program];
    }

    /// <summary>The access bits of a rule's <c>rwm</c> letters (none or empty: all).</summary>
    public static int Access(string? access)
    {
        if (string.IsNullOrEmpty(access))
        {
            return AccessAll;
        }

        var bits = 0;
        foreach (var letter in access)
        {
            bits |= letter switch
            {
                'm' => AccessMknod,
                'r' => AccessRead,
                'w' => AccessWrite,
                _ => throw new ArgumentException($"'{letter}' is not one of 'rwm'", nameof(access)),
            };
        }

        return bits;
    }

    /// <summary>The tests a request must pass for <paramref name="rule"/> to decide it; none when it matches every request.</summary>
    private static List<Test> Tests(LinuxDeviceCgroup rule)
    {
        var tests = new List<Test>();
        if (rule.Type is "b" or "c")
        {
            tests.Add(Test.NotEqual(R3, rule.Type == "b" ? TypeBlock : TypeChar));
        }

        if (rule.Major is { } major)
        {
            tests.Add(Test.NotEqual(R4, checked((uint)major)));
        }

        if (rule.Minor is { } minor)
        {
            tests.Add(Test.NotEqual(R5, checked((uint)minor)));
        }

        var access = Access(rule.Access);
        if (access != AccessAll)
        {
            // Allow: skip unless the request asks for nothing beyond the rule's access. Deny: skip unless it asks for some of it.
            tests.Add(rule.Allow ? Test.Masked(AccessAll & ~access, JumpNe32Imm) : Test.Masked(access, JumpEq32Imm));
        }

        return tests;
    }

    private static ulong Instruction(byte opcode, byte destination, byte source, short offset, int immediate) =>
        opcode | ((ulong)(byte)(destination | (source << 4)) << 8) | ((ulong)(ushort)offset << 16) | ((ulong)(uint)immediate << 32);

    /// <summary>One condition of a rule: its instructions, the last of which jumps <c>skip</c> instructions ahead when it fails.</summary>
    private sealed record Test(int Length, Func<short, ulong[]> Emit)
    {
        /// <summary>Fails when <paramref name="register"/> is not <paramref name="value"/>.</summary>
        public static Test NotEqual(byte register, uint value) =>
            new(1, skip => [Instruction(JumpNe32Imm, register, 0, skip, unchecked((int)value))]);

        /// <summary>R6 = the access asked for AND <paramref name="mask"/>; fails when <paramref name="jump"/> (against 0) jumps.</summary>
        public static Test Masked(int mask, byte jump) =>
            new(3, skip => [Instruction(Move32Reg, R6, R2, 0, 0), Instruction(And32Imm, R6, 0, 0, mask), Instruction(jump, R6, 0, skip, 0)]);
    }
}
