namespace Containers.Spec;

/// <summary>The rules of <c>linux.seccomp</c>: names of actions, architectures, comparisons and flags as the runtime-spec lists them.</summary>
internal static partial class SpecValidator
{
    // Hash sets, not frozen ones: a frozen set analyses its keys when it is built, which costs a process that validates
    // one spec (every container start of the command line) more than all its lookups save.
    private static readonly HashSet<string> SeccompActions = new(StringComparer.Ordinal)
    {
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
    };

    private static readonly HashSet<string> SeccompArchitectures = new(StringComparer.Ordinal)
    {
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
        "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    };

    private static readonly HashSet<string> SeccompComparisons = new(StringComparer.Ordinal)
    {
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
    };

    private static readonly HashSet<string> SeccompFlags = new(StringComparer.Ordinal)
    {
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    };

    /// <summary>Checks a seccomp profile's names and numbers; the compiler relies on them.</summary>
    internal static void ValidateSeccomp(LinuxSeccomp seccomp, List<SpecError> errors)
    {
        const string path = "linux.seccomp";
        RequireName(seccomp.DefaultAction, SeccompActions, $"{path}.defaultAction", "action", errors);
        for (int i = 0; i < seccomp.Architectures.Length; i++)
        {
            RequireName(seccomp.Architectures[i], SeccompArchitectures, $"{path}.architectures[{i}]", "architecture", errors);
        }

        for (int i = 0; i < seccomp.Flags.Length; i++)
        {
            RequireName(seccomp.Flags[i], SeccompFlags, $"{path}.flags[{i}]", "flag", errors);
        }

        for (int i = 0; i < seccomp.Syscalls.Length; i++)
        {
            string rule = $"{path}.syscalls[{i}]";
            if (NotNull(seccomp.Syscalls[i], rule, errors) is not { } syscall)
            {
                continue;
            }

            if (syscall.Names.IsEmpty)
            {
                errors.Add(new($"{rule}.names", "names no system call; give at least one name"));
            }

            RequireName(syscall.Action, SeccompActions, $"{rule}.action", "action", errors);
            for (int j = 0; j < syscall.Args.Length; j++)
            {
                string argPath = $"{rule}.args[{j}]";
                if (NotNull(syscall.Args[j], argPath, errors) is not { } arg)
                {
                    continue;
                }

                if (arg.Index > 5)
                {
                    errors.Add(new($"{argPath}.index", $"is {arg.Index}; a system call has arguments 0 to 5"));
                }

                RequireName(arg.Op, SeccompComparisons, $"{argPath}.op", "comparison", errors);
            }
        }
    }

    private static void RequireName(string value, HashSet<string> known, string path, string what, List<SpecError> errors)
    {
        if (!known.Contains(value))
        {
            errors.Add(new(path, $"'{value}' is not a seccomp {what}; use one of {string.Join(", ", known.Order(StringComparer.Ordinal))}"));
        }
    }
}
