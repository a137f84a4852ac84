using Containers.Security.Seccomp;
using Containers.Spec;
using static Containers.Tests.Security.Seccomp.BpfInterpreter;

namespace Containers.Tests.Security.Seccomp;

public sealed class SeccompCompilerTests
{
    private const uint Allow = 0x7fff0000;
    private const uint KillProcess = 0x80000000;
    private const uint Eperm = 0x00050001;
    private const uint Enosys = 0x00050026;
    private const uint X32 = 0x40000000;

    private static byte[] Default64 => SeccompCompiler.Compile(SeccompProfiles.Default, SeccompArchitecture.X86_64).Bytes;

    [Theory]
    [InlineData(0u, Allow)]            // read
    [InlineData(1u, Allow)]            // write
    [InlineData(59u, Allow)]           // execve
    [InlineData(165u, Eperm)]          // mount
    [InlineData(166u, Eperm)]          // umount2
    [InlineData(272u, Eperm)]          // unshare
    [InlineData(308u, Eperm)]          // setns
    [InlineData(321u, Eperm)]          // bpf
    [InlineData(298u, Eperm)]          // perf_event_open
    [InlineData(323u, Eperm)]          // userfaultfd
    [InlineData(250u, Eperm)]          // keyctl
    [InlineData(425u, Eperm)]          // io_uring_setup
    [InlineData(246u, Eperm)]          // kexec_load
    [InlineData(313u, Eperm)]          // finit_module
    [InlineData(175u, Eperm)]          // init_module
    [InlineData(169u, Eperm)]          // reboot
    [InlineData(304u, Eperm)]          // open_by_handle_at
    [InlineData(435u, Enosys)]         // clone3: the C library falls back to clone
    [InlineData(451u, Enosys)]         // newer than the table
    [InlineData(0x3fffffffu, Enosys)]  // far newer
    [InlineData(335u, Eperm)]          // a hole below the newest: the default
    public void The_default_profile_on_x86_64_answers_each_call_as_Dockers_does(uint nr, uint expected) =>
        Assert.Equal(expected, Run(Default64, AuditArchX86_64, nr));

    [Theory]
    [InlineData(0x11ul, Allow)]                 // SIGCHLD: fork
    [InlineData(0x3d0f00ul, Allow)]             // CLONE_VM|FS|FILES|SIGHAND|THREAD|...: a thread
    [InlineData(0x10000000ul | 0x11, Eperm)]    // CLONE_NEWUSER
    [InlineData(0x20000000ul, Eperm)]           // CLONE_NEWPID
    [InlineData(0x00020000ul, Eperm)]           // CLONE_NEWNS
    [InlineData(0x02000000ul, Eperm)]           // CLONE_NEWCGROUP
    [InlineData(0x40000000ul, Eperm)]           // CLONE_NEWNET
    [InlineData(0xffffffff00000011ul, Allow)]   // high bits are not namespace flags
    public void Clone_with_namespace_flags_is_refused_and_without_them_allowed(ulong flags, uint expected) =>
        Assert.Equal(expected, Run(Default64, AuditArchX86_64, 56, flags));

    [Theory]
    [InlineData(40ul, Eperm)]   // AF_VSOCK
    [InlineData(38ul, Eperm)]   // AF_ALG
    [InlineData(2ul, Allow)]    // AF_INET
    [InlineData(1ul, Allow)]    // AF_UNIX
    [InlineData(16ul, Allow)]   // AF_NETLINK
    [InlineData((1ul << 32) | 40, Allow)] // the high word counts on a 64-bit ABI
    public void Sockets_of_AF_ALG_and_AF_VSOCK_are_refused(ulong family, uint expected) =>
        Assert.Equal(expected, Run(Default64, AuditArchX86_64, 41, family, 1, 0));

    [Theory]
    [InlineData(0ul, Allow)]
    [InlineData(8ul, Allow)]
    [InlineData(0xfffffffful, Allow)]
    [InlineData(0x0040000ul, Eperm)] // ADDR_NO_RANDOMIZE
    [InlineData(0x0400000ul, Eperm)] // READ_IMPLIES_EXEC
    public void Personality_is_limited_to_the_usual_domains(ulong persona, uint expected) =>
        Assert.Equal(expected, Run(Default64, AuditArchX86_64, 135, persona));

    [Theory]
    [InlineData(21u, Eperm)]   // mount is 21 on i386 (x86_64's 21 is access, allowed)
    [InlineData(3u, Allow)]    // read
    [InlineData(4u, Allow)]    // write
    [InlineData(1u, Allow)]    // exit
    [InlineData(120u, Allow)]  // clone without flags
    [InlineData(357u, Eperm)]  // bpf
    [InlineData(336u, Eperm)]  // perf_event_open
    [InlineData(288u, Eperm)]  // keyctl
    [InlineData(26u, Allow)]   // ptrace
    [InlineData(451u, Enosys)]
    public void An_i386_call_through_int_0x80_is_judged_by_i386_numbers(uint nr, uint expected) =>
        Assert.Equal(expected, Run(Default64, AuditArchI386, nr));

    [Fact]
    public void An_i386_clone_with_namespace_flags_is_refused_on_the_low_word()
    {
        Assert.Equal(Eperm, Run(Default64, AuditArchI386, 120, 0x10000000));
        Assert.Equal(Allow, Run(Default64, AuditArchI386, 120, 0x11));
    }

    [Theory]
    [InlineData(X32 + 165, Eperm)]   // mount
    [InlineData(X32 + 0, Allow)]     // read
    [InlineData(X32 + 545, Allow)]   // x32 execveat
    [InlineData(X32 + 451, Enosys)]  // newer than the table, below the x32 block
    [InlineData(X32 + 548, Enosys)]  // past the x32 block
    public void An_x32_call_is_judged_by_x32_numbers(uint nr, uint expected) =>
        Assert.Equal(expected, Run(Default64, AuditArchX86_64, nr));

    [Fact]
    public void A_profile_for_x86_64_alone_kills_i386_and_x32_calls_instead_of_letting_them_bypass_it()
    {
        var profile = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Architectures = ["SCMP_ARCH_X86_64"],
            Syscalls = [new() { Names = ["mount"], Action = "SCMP_ACT_ERRNO" }],
        };
        var filter = SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64).Bytes;

        Assert.Equal(Eperm, Run(filter, AuditArchX86_64, 165));
        Assert.Equal(Allow, Run(filter, AuditArchX86_64, 21));
        Assert.Equal(KillProcess, Run(filter, AuditArchI386, 21));
        Assert.Equal(KillProcess, Run(filter, AuditArchI386, 3));
        Assert.Equal(KillProcess, Run(filter, AuditArchX86_64, X32 + 165));
        Assert.Equal(KillProcess, Run(filter, AuditArchAarch64, 40));
    }

    [Fact]
    public void A_profile_without_architectures_covers_the_native_one_only()
    {
        var filter = SeccompCompiler.Compile(new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW" }, SeccompArchitecture.X86_64).Bytes;

        Assert.Equal(Allow, Run(filter, AuditArchX86_64, 165));
        Assert.Equal(KillProcess, Run(filter, AuditArchI386, 3));
    }

    [Theory]
    [InlineData(40u, Eperm)]    // mount
    [InlineData(39u, Eperm)]    // umount2
    [InlineData(56u, Allow)]    // openat
    [InlineData(63u, Allow)]    // read
    [InlineData(220u, Allow)]   // clone (no flags)
    [InlineData(280u, Eperm)]   // bpf
    [InlineData(435u, Enosys)]  // clone3
    [InlineData(451u, Enosys)]
    public void The_default_profile_on_aarch64_uses_aarch64_numbers(uint nr, uint expected)
    {
        var filter = SeccompCompiler.Compile(SeccompProfiles.Default, SeccompArchitecture.Aarch64).Bytes;

        Assert.Equal(expected, Run(filter, AuditArchAarch64, nr));
        Assert.Equal(KillProcess, Run(filter, AuditArchX86_64, nr));
    }

    [Fact]
    public void The_sandbox_profile_refuses_ptrace_other_socket_families_and_terminal_injection()
    {
        var filter = SeccompCompiler.Compile(SeccompProfiles.Sandbox, SeccompArchitecture.X86_64).Bytes;

        Assert.Equal(Eperm, Run(filter, AuditArchX86_64, 101));                  // ptrace
        Assert.Equal(Eperm, Run(filter, AuditArchX86_64, 41, 16));               // socket(AF_NETLINK)
        Assert.Equal(Allow, Run(filter, AuditArchX86_64, 41, 2));                // socket(AF_INET)
        Assert.Equal(Eperm, Run(filter, AuditArchX86_64, 16, 0, 0x5412));        // ioctl(TIOCSTI)
        Assert.Equal(Allow, Run(filter, AuditArchX86_64, 16, 0, 0x5401));        // ioctl(TCGETS)
        Assert.Equal(Allow, Run(filter, AuditArchX86_64, 54));                   // setsockopt
        Assert.Equal(Eperm, Run(filter, AuditArchX86_64, 135, 8));               // personality(PER_LINUX32)
        Assert.Equal(Eperm, Run(filter, AuditArchX86_64, 165));                  // mount
    }

    public static TheoryData<string, ulong, ulong?> Comparisons()
    {
        var data = new TheoryData<string, ulong, ulong?>();
        foreach (var op in new[] { "SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE" })
        {
            foreach (var value in new ulong[] { 0, 1, 0xffffffff, 0x1_0000_0000, 0x1_0000_0001, 0xdead_beef_0000_0005, ulong.MaxValue })
            {
                data.Add(op, value, null);
            }
        }

        data.Add("SCMP_CMP_MASKED_EQ", 0xff, 0x12);
        data.Add("SCMP_CMP_MASKED_EQ", 0xffff_0000_0000_00ff, 0x1234_0000_0000_0012);
        data.Add("SCMP_CMP_MASKED_EQ", 0x7E020000, 0);
        return data;
    }

    [Theory]
    [MemberData(nameof(Comparisons))]
    public void Every_comparison_holds_exactly_where_its_64_bit_meaning_does(string op, ulong value, ulong? valueTwo)
    {
        var arg = new LinuxSeccompArg { Index = 2, Value = value, ValueTwo = valueTwo, Op = op };
        var profile = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new() { Names = ["write"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 7, Args = [arg] }],
        };
        var filter = SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64).Bytes;

        foreach (var probe in Probes(value).Concat(Probes(valueTwo ?? 0)))
        {
            bool holds = op switch
            {
                "SCMP_CMP_EQ" => probe == value,
                "SCMP_CMP_NE" => probe != value,
                "SCMP_CMP_LT" => probe < value,
                "SCMP_CMP_LE" => probe <= value,
                "SCMP_CMP_GT" => probe > value,
                "SCMP_CMP_GE" => probe >= value,
                "SCMP_CMP_MASKED_EQ" => (probe & value) == valueTwo,
                _ => throw new ArgumentException(op),
            };
            Assert.True((holds ? 0x00050007u : Allow) == Run(filter, AuditArchX86_64, 1, 0, 0, probe),
                $"{op} {value:x} on {probe:x}: expected {(holds ? "ERRNO" : "ALLOW")}");
        }
    }

    private static IEnumerable<ulong> Probes(ulong around)
    {
        ulong hi = around & 0xffff_ffff_0000_0000, lo = around & 0xffff_ffff;
        foreach (var d in new ulong[] { 0, 1, 2, 0x1_0000_0000 })
        {
            yield return unchecked(around + d);
            yield return unchecked(around - d);
        }

        yield return hi;
        yield return lo;
        yield return hi | 0xffff_ffff;
        yield return lo | 0xffff_ffff_0000_0000;
        yield return 0;
        yield return ulong.MaxValue;
    }

    [Fact]
    public void Rules_with_conditions_decide_first_in_profile_order_then_the_rule_without_conditions()
    {
        var profile = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_KILL_PROCESS",
            Syscalls =
            [
                new() { Names = ["ioctl"], Action = "SCMP_ACT_ALLOW" },
                new() { Names = ["ioctl"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 25, Args = [new() { Index = 1, Value = 0x5412, Op = "SCMP_CMP_EQ" }] },
                new() { Names = ["ioctl"], Action = "SCMP_ACT_TRAP", Args = [new() { Index = 1, Value = 0x5400, Op = "SCMP_CMP_GE" }] },
                new() { Names = ["getpid"], Action = "SCMP_ACT_LOG" },
                new() { Names = ["gettid"], Action = "SCMP_ACT_KILL" },
                new() { Names = ["getppid"], Action = "SCMP_ACT_TRACE", ErrnoRet = 9 },
            ],
        };
        var filter = SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64).Bytes;

        Assert.Equal(0x00050019u, Run(filter, AuditArchX86_64, 16, 0, 0x5412));
        Assert.Equal(0x00030000u, Run(filter, AuditArchX86_64, 16, 0, 0x5413));
        Assert.Equal(Allow, Run(filter, AuditArchX86_64, 16, 0, 0x1));
        Assert.Equal(0x7ffc0000u, Run(filter, AuditArchX86_64, 39));
        Assert.Equal(0u, Run(filter, AuditArchX86_64, 186));
        Assert.Equal(0x7ff00009u, Run(filter, AuditArchX86_64, 110));
        Assert.Equal(KillProcess, Run(filter, AuditArchX86_64, 0));
        Assert.Equal(Enosys, Run(filter, AuditArchX86_64, 460));
    }

    [Fact]
    public void A_profile_that_allows_by_default_allows_newer_calls_too()
    {
        var profile = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new() { Names = ["mount"], Action = "SCMP_ACT_ERRNO" }] };
        var filter = SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64).Bytes;

        Assert.Equal(Allow, Run(filter, AuditArchX86_64, 460));
        Assert.Equal(Eperm, Run(filter, AuditArchX86_64, 165));
    }

    [Fact]
    public void The_default_errno_is_EPERM_and_defaultErrnoRet_replaces_it()
    {
        var profile = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ERRNO", DefaultErrnoRet = 13 };

        Assert.Equal(0x0005000du, Run(SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64).Bytes, AuditArchX86_64, 0));
    }

    [Fact]
    public void Names_a_table_does_not_know_are_left_out_of_that_architecture()
    {
        var profile = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            Syscalls = [new() { Names = ["newfstatat", "s390_runtime_instr", "socketcall"], Action = "SCMP_ACT_ALLOW" }],
        };
        var filter = SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64).Bytes;

        Assert.Equal(Allow, Run(filter, AuditArchX86_64, 262)); // newfstatat is x86_64's only
        Assert.Equal(Eperm, Run(filter, AuditArchI386, 262));   // i386's 262 is timer_getoverrun
        Assert.Equal(Allow, Run(filter, AuditArchI386, 102));   // socketcall is i386's only
        Assert.Equal(Eperm, Run(filter, AuditArchX86_64, 102)); // x86_64's 102 is getuid
    }

    [Fact]
    public void The_filters_fit_the_kernels_limit_and_flags_are_passed()
    {
        var profile = SeccompProfiles.Default with { Flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"] };

        var filter = SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64);

        Assert.InRange(filter.Instructions.Count, 10, 4096);
        Assert.InRange(SeccompCompiler.Compile(SeccompProfiles.Sandbox, SeccompArchitecture.X86_64).Instructions.Count, 10, 4096);
        Assert.Equal(2u | 4u, filter.Flags);
        Assert.Equal(8u, SeccompCompiler.Compile(profile with { DefaultAction = "SCMP_ACT_NOTIFY", Flags = [] }, SeccompArchitecture.X86_64).Flags);
    }

    [Fact]
    public void A_profile_compiles_once_whether_it_comes_again_by_reference_or_by_value()
    {
        var profile = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new() { Names = ["mount", "umount2"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 99 }] };
        var copy = profile with { Syscalls = [new() { Names = ["mount", "umount2"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 99 }] };

        var first = SeccompCompiler.CompileForThisMachine(profile);

        Assert.Same(first, SeccompCompiler.CompileForThisMachine(profile));
        Assert.Same(first, SeccompCompiler.CompileForThisMachine(copy));
        Assert.NotSame(first, SeccompCompiler.CompileForThisMachine(copy with { DefaultErrnoRet = 5 }));
    }

    [Fact]
    public void A_profile_with_unknown_names_is_refused_with_the_path_of_each()
    {
        var profile = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_DENY",
            Architectures = ["SCMP_ARCH_Z80"],
            Flags = ["SECCOMP_FILTER_FLAG_FAST"],
            Syscalls = [new() { Names = ["read"], Action = "SCMP_ACT_ALLOW", Args = [new() { Index = 6, Op = "SCMP_CMP_ODD" }] }],
        };

        var error = Assert.Throws<InvalidSpecException>(() => SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64));

        Assert.Equal(
            ["linux.seccomp.defaultAction", "linux.seccomp.architectures[0]", "linux.seccomp.flags[0]", "linux.seccomp.syscalls[0].args[0].index", "linux.seccomp.syscalls[0].args[0].op"],
            error.Errors.Select(e => e.JsonPath));
    }

    [Fact]
    public void A_section_costs_about_one_instruction_per_boundary_between_outcomes()
    {
        // Each start has the kernel copy, convert and compile the whole program: a search whose tests jump straight to
        // a return costs one instruction per boundary, where a test and a jump to a shared return per run cost three.
        foreach (var profile in new[] { SeccompProfiles.Default, SeccompProfiles.Sandbox })
        {
            var program = SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64).Bytes;
            var boundaries = 0;
            foreach (var arch in new[] { AuditArchX86_64, AuditArchI386 })
            {
                for (uint nr = 1; nr < 1024; nr++)
                {
                    boundaries += Run(program, arch, nr) != Run(program, arch, nr - 1) ? 1 : 0;
                }
            }

            for (uint nr = X32 + 1; nr < X32 + 1024; nr++)
            {
                boundaries += Run(program, AuditArchX86_64, nr) != Run(program, AuditArchX86_64, nr - 1) ? 1 : 0;
            }

            Assert.InRange(program.Length / 8, boundaries / 2, boundaries * 3 / 2);
        }
    }

    [Fact]
    public void The_default_program_fits_one_page_once_the_kernel_has_converted_it()
    {
        // The kernel allocates a page per 512 instructions for the program it is given, converts it (a return and a
        // test that jumps both ways become two instructions each) and allocates again when it grew past that page:
        // a second allocation costs a start more than the instructions themselves.
        foreach (var arch in new[] { SeccompArchitecture.X86_64, SeccompArchitecture.Aarch64 })
        {
            var converted = 3;
            foreach (var insn in SeccompCompiler.Compile(SeccompProfiles.Default, arch).Instructions)
            {
                bool twoWay = (insn.Code & 0x07) == Bpf.Jmp && (insn.Code & 0xf0) != Bpf.Ja && insn.Jt != 0 && insn.Jf != 0;
                converted += (insn.Code & 0x07) == Bpf.Ret || twoWay ? 2 : 1;
            }

            // struct bpf_prog's header comes first in the page; 128 bytes is more than it takes.
            Assert.True(converted * 8 <= 4096 - 128, $"on {arch} the converted program is {converted} instructions");
        }
    }

    [Fact]
    public void Every_number_is_judged_in_a_few_dozen_instructions_not_a_scan_of_the_section()
    {
        // The kernel runs the filter once per number of each ABI when it loads it (to cache the plain allows), and
        // for every call it could not cache: a binary search keeps that short however many calls a profile names.
        foreach (var (profile, name) in new[] { (SeccompProfiles.Default, "default"), (SeccompProfiles.Sandbox, "sandbox") })
        {
            var program = SeccompCompiler.Compile(profile, SeccompArchitecture.X86_64).Bytes;
            var most = 0;
            for (uint nr = 0; nr < 1024; nr++)
            {
                Run(program, AuditArchX86_64, nr, out var steps);
                most = Math.Max(most, steps);
                Run(program, AuditArchI386, nr, out steps);
                most = Math.Max(most, steps);
            }

            Assert.True(most <= 40, $"the {name} profile takes up to {most} instructions for one number");
        }
    }
}
