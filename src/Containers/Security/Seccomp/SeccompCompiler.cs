using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Containers.Spec;

namespace Containers.Security.Seccomp;

/// <summary>
/// Compiles an OCI seccomp profile (<c>linux.seccomp</c>) into a classic BPF filter for the architecture this
/// process runs on, the way the kernel reads it:
/// <list type="number">
/// <item>the <c>arch</c> word first: each ABI the profile covers (always the native one) jumps to its own section,
/// numbered by its own table; any other ABI is killed. On x86_64 an <c>int 0x80</c> call is an i386 call and is
/// judged by i386 numbers, and an x32 number (bit 30) by the x32 section, so neither reaches a call the x86_64
/// section denies under another number;</item>
/// <item>in a section, the system call number: intervals of consecutive numbers with the same outcome, found by a
/// binary search with one <c>jge</c> per boundary on the number only, so the kernel's per-syscall cache learns every
/// plain allow and skips the filter for it, and learns it in a few jumps per number when the filter is loaded; the
/// tests jump straight to a nearby return, so the program is about one instruction per boundary (the kernel copies,
/// converts and compiles every instruction at each start);</item>
/// <item>a call with argument rules goes to its block: the first rule (in profile order) whose conditions all hold
/// decides; when none does, a rule without conditions, else the default action;</item>
/// <item>a number above the newest the table knows gets <c>ENOSYS</c> when the default action refuses, so a C
/// library falls back to an older call instead of failing on <c>EPERM</c>; any other number the default action.</item>
/// </list>
/// Names a table does not know are left out of that section: such a call cannot be made there. Compiled filters are
/// cached by profile (by reference, then by value), so a profile compiles once per process; the ready-made profiles
/// were compiled when the runtime was built (<see cref="PrecompiledFilters"/>).
/// </summary>
internal static class SeccompCompiler
{
    private const int CacheLimit = 64;
    private static readonly ConditionalWeakTable<LinuxSeccomp, SeccompFilter> ByReference = [];
    private static readonly ConcurrentDictionary<(LinuxSeccomp Profile, SeccompArchitecture Arch), SeccompFilter> ByValue = new();

    /// <summary>Compiles <paramref name="profile"/> for this machine's architecture, from the cache when it was compiled before.</summary>
    /// <exception cref="InvalidSpecException">The profile names an action, comparison, architecture or flag that does not exist.</exception>
    /// <exception cref="PlatformNotSupportedException">This runtime has no system call table for this machine's architecture.</exception>
    public static SeccompFilter CompileForThisMachine(LinuxSeccomp profile)
    {
        var native = SeccompArchitectures.Native
            ?? throw new PlatformNotSupportedException("seccomp filters are compiled for x86_64, i386 and aarch64 only");
        if (ByReference.TryGetValue(profile, out var filter))
        {
            return filter;
        }

        if (ByValue.Count >= CacheLimit)
        {
            ByValue.Clear();
        }

        filter = PrecompiledFilters.For(profile, native) ?? ByValue.GetOrAdd((profile, native), key => Compile(key.Profile, key.Arch));
        ByReference.AddOrUpdate(profile, filter);
        return filter;
    }

    /// <summary>Compiles <paramref name="profile"/> for a process on <paramref name="native"/>.</summary>
    /// <exception cref="InvalidSpecException">The profile names an action, comparison, architecture or flag that does not exist.</exception>
    public static SeccompFilter Compile(LinuxSeccomp profile, SeccompArchitecture native)
    {
        var errors = new List<SpecError>();
        SpecValidator.ValidateSeccomp(profile, errors);
        if (errors.Count > 0)
        {
            throw new InvalidSpecException(errors);
        }

        var defaultAction = SeccompAction.FromOci(profile.DefaultAction, profile.DefaultErrnoRet);
        var covered = Covered(profile, native);
        var asm = new BpfAssembler();
        var returns = new Dictionary<uint, BpfAssembler.Label>();
        BpfAssembler.Label ReturnOf(uint action) =>
            returns.TryGetValue(action, out var label) ? label : returns[action] = asm.NewLabel();

        var badArch = ReturnOf(SeccompAction.KillProcess);
        var sections = covered.ToDictionary(a => a, _ => asm.NewLabel());
        var x86Family = asm.NewLabel();
        var x86AuditArch = SeccompArchitectures.AuditArch(SeccompArchitecture.X86_64);

        asm.Load(Bpf.OffsetArch);
        foreach (var group in covered.GroupBy(SeccompArchitectures.AuditArch))
        {
            var skip = asm.NewLabel();
            asm.Jump(Bpf.Jeq, group.Key, null, skip);
            asm.JumpTo(group.Key == x86AuditArch ? x86Family : sections[group.First()]);
            asm.Mark(skip);
        }

        asm.JumpTo(badArch);
        if (covered.Any(a => SeccompArchitectures.AuditArch(a) == x86AuditArch))
        {
            // x86_64 and x32 share AUDIT_ARCH_X86_64: bit 30 of the number tells them apart.
            var notX32 = asm.NewLabel();
            asm.Mark(x86Family);
            asm.Load(Bpf.OffsetNr);
            asm.Jump(Bpf.Jge, SeccompArchitectures.X32SyscallBit, null, notX32);
            asm.JumpTo(sections.GetValueOrDefault(SeccompArchitecture.X32, badArch));
            asm.Mark(notX32);
            asm.JumpTo(sections.GetValueOrDefault(SeccompArchitecture.X86_64, badArch));
        }

        // A block of argument rules is the same code for every ABI of one width (x86_64 and x32): emitted once.
        var blocks = new List<(BpfAssembler.Label Label, SyscallRules Rules, bool Is32Bit)>();
        var blockOf = new Dictionary<(SyscallRules, bool), BpfAssembler.Label>();
        foreach (var arch in covered)
        {
            asm.Mark(sections[arch]);
            asm.Load(Bpf.OffsetNr);
            bool is32Bit = SeccompArchitectures.Is32Bit(arch);
            BpfAssembler.Label TargetOf(SyscallRules rules)
            {
                if (rules.Conditional.Count == 0)
                {
                    return ReturnOf(rules.Unconditional ?? defaultAction);
                }

                if (!blockOf.TryGetValue((rules, is32Bit), out var target))
                {
                    target = blockOf[(rules, is32Bit)] = asm.NewLabel();
                    blocks.Add((target, rules, is32Bit));
                }

                return target;
            }

            var intervals = Intervals(Runs(arch, RulesFor(profile, arch), defaultAction), TargetOf, ReturnOf(defaultAction));
            Search(asm, intervals, 0, intervals.Count, label => returns.Where(r => r.Value == label).Select(r => (uint?)r.Key).FirstOrDefault());
        }

        foreach (var (label, rules, is32Bit) in blocks)
        {
            asm.Mark(label);
            foreach (var rule in rules.Conditional)
            {
                var next = asm.NewLabel();
                foreach (var condition in rule.Conditions)
                {
                    EmitCondition(asm, condition, is32Bit, next);
                }

                asm.Return(rule.Action);
                asm.Mark(next);
            }

            asm.Return(rules.Unconditional ?? defaultAction);
        }

        foreach (var (action, label) in returns.Where(r => r.Value.Used))
        {
            asm.Mark(label);
            asm.Return(action);
        }

        var program = asm.Assemble();
        if (program.Length > Bpf.MaxInstructions)
        {
            throw new InvalidSpecException([new SpecError("linux.seccomp.syscalls",
                $"the filter compiles to {program.Length} BPF instructions, more than the kernel's {Bpf.MaxInstructions}; use fewer rules with argument conditions")]);
        }

        return new SeccompFilter(program, FilterFlags(profile));
    }

    /// <summary>
    /// The section's numbers, 0 to the last, as intervals that each go to one place (a return or a block of argument
    /// rules): the runs, and between them the default. Neighbours that go to the same place are one interval.
    /// </summary>
    private static List<(uint First, BpfAssembler.Label Target)> Intervals(List<(uint First, uint Last, SyscallRules Rules)> runs,
        Func<SyscallRules, BpfAssembler.Label> targetOf, BpfAssembler.Label otherwise)
    {
        var intervals = new List<(uint First, BpfAssembler.Label Target)>();
        void Add(uint first, BpfAssembler.Label target)
        {
            if (intervals.Count == 0 || intervals[^1].Target != target)
            {
                intervals.Add((first, target));
            }
        }

        ulong next = 0;
        foreach (var (first, last, rules) in runs)
        {
            if (first > next)
            {
                Add((uint)next, otherwise);
            }

            Add(first, targetOf(rules));
            next = (ulong)last + 1;
        }

        if (next <= uint.MaxValue)
        {
            Add((uint)next, otherwise);
        }

        return intervals;
    }

    /// <summary>
    /// Finds the interval holding the loaded number by binary search on the intervals' first numbers: one
    /// <c>jge</c> per boundary, whose two ways lead to the next test or straight to the interval's place. The kernel
    /// runs the filter once per number of each ABI when it is loaded (to learn which calls it may allow without
    /// running it), and again for every call it could not learn, so a number is judged in a handful of jumps; and it
    /// copies, converts and compiles every instruction at each load, so the program is as short as the boundaries.
    /// A conditional jump reaches 255 instructions: a subtree that fits is followed by its own pool, one return (or
    /// jump to a block) per place it goes to, so its tests jump there directly; a larger one is split by a test
    /// whose upper half is reached through an unconditional jump.
    /// </summary>
    private static void Search(BpfAssembler asm, List<(uint First, BpfAssembler.Label Target)> intervals, int from, int to,
        Func<BpfAssembler.Label, uint?> actionOf)
    {
        if (to - from == 1)
        {
            asm.JumpTo(intervals[from].Target);
            return;
        }

        var targets = intervals.Skip(from).Take(to - from).Select(i => i.Target).Distinct().ToList();
        if (to - from - 1 + targets.Count <= byte.MaxValue)
        {
            var pool = targets.ToDictionary(t => t, _ => asm.NewLabel());
            Tree(asm, intervals, from, to, pool);
            foreach (var (target, near) in pool)
            {
                asm.Mark(near);
                if (actionOf(target) is { } action)
                {
                    asm.Return(action);
                }
                else
                {
                    asm.JumpTo(target);
                }
            }

            return;
        }

        int middle = (from + to) / 2;
        var lower = asm.NewLabel();
        var upper = asm.NewLabel();
        asm.Jump(Bpf.Jge, intervals[middle].First, null, lower);
        asm.JumpTo(upper);
        asm.Mark(lower);
        Search(asm, intervals, from, middle, actionOf);
        asm.Mark(upper);
        Search(asm, intervals, middle, to, actionOf);
    }

    /// <summary>
    /// The tests of a search over two or more intervals, <c>to - from - 1</c> instructions, jumping into <paramref name="pool"/>.
    /// The kernel turns a test whose two ways both jump into two instructions, and one that falls through on one way
    /// into one: the last few intervals are tested as a chain from the top, each test falling through to the next, so
    /// only a chain's last test jumps both ways (a tree down to single intervals would have half its tests do so).
    /// </summary>
    private static void Tree(BpfAssembler asm, List<(uint First, BpfAssembler.Label Target)> intervals, int from, int to,
        Dictionary<BpfAssembler.Label, BpfAssembler.Label> pool)
    {
        if (to - from <= ChainLength)
        {
            for (int i = to - 1; i > from; i--)
            {
                asm.Jump(Bpf.Jge, intervals[i].First, pool[intervals[i].Target], i == from + 1 ? pool[intervals[from].Target] : null);
            }

            return;
        }

        int middle = (from + to) / 2;
        var upper = asm.NewLabel();
        asm.Jump(Bpf.Jge, intervals[middle].First, upper, null);
        Tree(asm, intervals, from, middle, pool);
        asm.Mark(upper);
        Tree(asm, intervals, middle, to, pool);
    }

    /// <summary>How many intervals a chain of tests covers at the bottom of a search (a number takes at most that many tests more).</summary>
    private const int ChainLength = 8;

    /// <summary>The ABIs the filter has a section for: the native one, and those the profile lists that a process here can call.</summary>
    private static List<SeccompArchitecture> Covered(LinuxSeccomp profile, SeccompArchitecture native)
    {
        var reachable = SeccompArchitectures.Reachable(native);
        var listed = profile.Architectures.Select(SeccompArchitectures.FromOciName).OfType<SeccompArchitecture>();
        return [.. reachable.Where(a => a == native || listed.Contains(a))];
    }

    /// <summary>The rules of each system call number of <paramref name="arch"/> the profile names.</summary>
    private static Dictionary<uint, SyscallRules> RulesFor(LinuxSeccomp profile, SeccompArchitecture arch)
    {
        var rules = new Dictionary<uint, (List<ArgumentRule> Conditional, uint? Unconditional)>();
        foreach (var syscall in profile.Syscalls)
        {
            var action = SeccompAction.FromOci(syscall.Action, syscall.ErrnoRet);
            foreach (var name in syscall.Names)
            {
                if (SyscallTables.Number(arch, name) is not { } number)
                {
                    continue;
                }

                var entry = rules.TryGetValue(number, out var found) ? found : (Conditional: new List<ArgumentRule>(), Unconditional: (uint?)null);
                if (syscall.Args.Length > 0)
                {
                    entry.Conditional.Add(new ArgumentRule([.. syscall.Args], action));
                }
                else
                {
                    entry.Unconditional ??= action;
                }

                rules[number] = entry;
            }
        }

        return rules.ToDictionary(r => r.Key, r => new SyscallRules(r.Value.Conditional, r.Value.Unconditional));
    }

    /// <summary>
    /// Runs of consecutive numbers that share an outcome other than the default action: the numbers the profile
    /// names, and (when the default refuses) the numbers newer than the table, answered with ENOSYS.
    /// </summary>
    private static List<(uint First, uint Last, SyscallRules Rules)> Runs(SeccompArchitecture arch, Dictionary<uint, SyscallRules> rules, uint defaultAction)
    {
        var outcomes = new SortedDictionary<uint, SyscallRules>(rules);
        var runs = new List<(uint First, uint Last, SyscallRules Rules)>();
        foreach (var (number, outcome) in outcomes)
        {
            if (outcome.Conditional.Count == 0 && outcome.Unconditional == defaultAction)
            {
                continue;
            }

            if (runs.Count > 0 && runs[^1].Last == number - 1 && runs[^1].Rules.Equals(outcome))
            {
                runs[^1] = (runs[^1].First, number, outcome);
            }
            else
            {
                runs.Add((number, number, outcome));
            }
        }

        if (!SeccompAction.Runs(defaultAction))
        {
            runs.AddRange(NewerThanTable(arch).Select(r => (r.First, r.Last, SyscallRules.Enosys)));
            runs.Sort((a, b) => a.First.CompareTo(b.First));
        }

        return runs;
    }

    /// <summary>The ranges of numbers above the table's newest that the table does not know, up to the section's last number.</summary>
    private static IEnumerable<(uint First, uint Last)> NewerThanTable(SeccompArchitecture arch)
    {
        uint newest = SyscallTables.Newest(arch);
        uint end = arch == SeccompArchitecture.X86_64 ? SeccompArchitectures.X32SyscallBit - 1 : uint.MaxValue;
        uint? start = null;
        for (uint n = newest + 1; ; n++)
        {
            bool unknown = !SyscallTables.IsKnown(arch, n);
            if (unknown && start is null)
            {
                start = n;
            }
            else if (!unknown && start is { } s)
            {
                yield return (s, n - 1);
                start = null;
            }

            // Past every known number the rest is one range.
            if (start is { } open && n > newest + 1024)
            {
                yield return (open, end);
                yield break;
            }
        }
    }

    /// <summary>
    /// Emits one argument condition: falls through when it holds, jumps to <paramref name="fail"/> otherwise.
    /// Arguments are 64-bit in <c>seccomp_data</c>; BPF compares 32-bit words, so the high word decides unless
    /// equal, then the low word. On a 32-bit ABI only the low word exists and values are truncated to it.
    /// </summary>
    private static void EmitCondition(BpfAssembler asm, LinuxSeccompArg arg, bool is32Bit, BpfAssembler.Label fail)
    {
        ulong value = arg.Value, valueTwo = arg.ValueTwo ?? 0;
        uint lo = (uint)value, hi = (uint)(value >> 32), lo2 = (uint)valueTwo, hi2 = (uint)(valueTwo >> 32);
        var pass = asm.NewLabel();
        var low = asm.NewLabel();
        uint offsetLow = Bpf.OffsetArg(arg.Index, high: false), offsetHigh = Bpf.OffsetArg(arg.Index, high: true);
        switch (arg.Op)
        {
            case "SCMP_CMP_EQ":
                if (!is32Bit)
                {
                    asm.Load(offsetHigh);
                    asm.Jump(Bpf.Jeq, hi, null, fail);
                }

                asm.Load(offsetLow);
                asm.Jump(Bpf.Jeq, lo, pass, fail);
                break;
            case "SCMP_CMP_NE":
                if (!is32Bit)
                {
                    asm.Load(offsetHigh);
                    asm.Jump(Bpf.Jeq, hi, null, pass);
                }

                asm.Load(offsetLow);
                asm.Jump(Bpf.Jeq, lo, fail, pass);
                break;
            case "SCMP_CMP_MASKED_EQ":
                // value is the mask, valueTwo the expected result (libseccomp's datum_a and datum_b)
                if (!is32Bit)
                {
                    asm.Load(offsetHigh);
                    asm.And(hi);
                    asm.Jump(Bpf.Jeq, hi2, null, fail);
                }

                asm.Load(offsetLow);
                asm.And(lo);
                asm.Jump(Bpf.Jeq, lo2, pass, fail);
                break;
            case "SCMP_CMP_GT" or "SCMP_CMP_GE" or "SCMP_CMP_LT" or "SCMP_CMP_LE":
                // GT/GE hold when the high word is greater; LT/LE are their negations (not GE, not GT).
                bool negate = arg.Op is "SCMP_CMP_LT" or "SCMP_CMP_LE";
                var greater = negate ? fail : pass;
                var notGreater = negate ? pass : fail;
                ushort lowTest = arg.Op is "SCMP_CMP_GT" or "SCMP_CMP_LE" ? Bpf.Jgt : Bpf.Jge;
                if (!is32Bit)
                {
                    asm.Load(offsetHigh);
                    asm.Jump(Bpf.Jgt, hi, greater, null);
                    asm.Jump(Bpf.Jeq, hi, low, notGreater);
                }

                asm.Mark(low);
                asm.Load(offsetLow);
                asm.Jump(lowTest, lo, greater, notGreater);
                break;
            default:
                throw new InvalidSpecException([new SpecError("linux.seccomp.syscalls", $"unknown comparison '{arg.Op}'")]);
        }

        if (low.Index < 0)
        {
            asm.Mark(low);
        }

        asm.Mark(pass);
    }

    private static uint FilterFlags(LinuxSeccomp profile)
    {
        uint flags = 0;
        foreach (var flag in profile.Flags)
        {
            flags |= flag switch
            {
                "SECCOMP_FILTER_FLAG_TSYNC" => SeccompFilter.FlagTsync,
                "SECCOMP_FILTER_FLAG_LOG" => SeccompFilter.FlagLog,
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => SeccompFilter.FlagSpecAllow,
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => SeccompFilter.FlagWaitKillableRecv,
                _ => 0,
            };
        }

        bool notifies = profile.DefaultAction == "SCMP_ACT_NOTIFY" || profile.Syscalls.Any(s => s.Action == "SCMP_ACT_NOTIFY");
        return notifies ? flags | SeccompFilter.FlagNewListener : flags;
    }
}

/// <summary>One rule with argument conditions: its action when every condition holds.</summary>
internal sealed record ArgumentRule(IReadOnlyList<LinuxSeccompArg> Conditions, uint Action)
{
    public bool Equals(ArgumentRule? other) => other is not null && Action == other.Action && Conditions.SequenceEqual(other.Conditions);

    public override int GetHashCode() => HashCode.Combine(Action, Conditions.Count);
}

/// <summary>What a profile says about one system call number: its argument rules in order, and a rule without conditions.</summary>
internal sealed record SyscallRules(IReadOnlyList<ArgumentRule> Conditional, uint? Unconditional)
{
    /// <summary>A number newer than the table: ENOSYS.</summary>
    public static readonly SyscallRules Enosys = new([], SeccompAction.Errno | SeccompAction.Enosys);

    public bool Equals(SyscallRules? other) =>
        other is not null && Unconditional == other.Unconditional && Conditional.SequenceEqual(other.Conditional);

    public override int GetHashCode() => HashCode.Combine(Unconditional, Conditional.Count);
}
