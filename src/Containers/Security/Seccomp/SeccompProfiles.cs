using System.Collections.Immutable;
using Containers.Spec;

namespace Containers.Security.Seccomp;

/// <summary>
/// Ready-made seccomp profiles. <see cref="Default"/> is what <see cref="ContainerSpec.For"/> applies: equal in
/// effect to Docker's default profile for a container with Docker's default capabilities. <see cref="Sandbox"/>
/// is tighter, for code you do not trust.
/// </summary>
/// <example>
/// <code>
/// var spec = ContainerSpec.For("/bin/sh", "-c", "echo hi").WithSeccomp(SeccompProfiles.Sandbox);
/// </code>
/// </example>
public static class SeccompProfiles
{
    /// <summary>Namespace flags of clone (CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET): a clone with any is refused.</summary>
    private const ulong CloneNamespaceFlags = 0x7E020000;

    private const ulong AfAlg = 38;
    private const ulong AfVsock = 40;
    private const ulong TiocSti = 0x5412;
    private const ulong TiocLinux = 0x541C;

    private static readonly string[] Allowed =
    [
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir", "chmod", "chown",
        "chown32", "chroot", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
        "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
        "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
        "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit",
        "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir",
        "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
        "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
        "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu",
        "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
        "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
        "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
        "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
        "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
        "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
        "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
        "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat",
        "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
        "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat",
        "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
        "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
        "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
        "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal",
        "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
        "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "process_vm_readv", "process_vm_writev",
        "pselect6", "pselect6_time64", "ptrace", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
        "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
        "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
        "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
        "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
        "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
        "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
        "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
        "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
        "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
        "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32",
        "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
        "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
        "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
        "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
        "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
        "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink",
        "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
        "write", "writev",
        "arch_prctl", "modify_ldt", // x86
    ];

    /// <summary>What the sandbox takes away from <see cref="Allowed"/>.</summary>
    private static readonly string[] NotInSandbox =
    [
        "ptrace", "process_vm_readv", "process_vm_writev", "chroot", "name_to_handle_at", "modify_ldt", "memfd_secret",
        "fanotify_mark", "adjtimex", "clock_adjtime", "clock_adjtime64", "remap_file_pages", "sched_setattr",
        "sched_setparam", "sched_setscheduler", "ioprio_set", "ioctl",
    ];

    /// <summary>
    /// The default profile: every system call a container normally makes is allowed; refused with EPERM are those
    /// that reach beyond the container or into the kernel's attack surface: <c>mount</c> and the new mount API,
    /// <c>unshare</c>, <c>setns</c> and <c>clone</c> with namespace flags, <c>bpf</c>, <c>perf_event_open</c>,
    /// <c>userfaultfd</c>, <c>keyctl</c>/<c>add_key</c>/<c>request_key</c>, <c>io_uring_*</c>, <c>kexec_*</c>,
    /// module loading, <c>reboot</c>, <c>swapon</c>, <c>acct</c>, clock setting, <c>open_by_handle_at</c>,
    /// sockets of the <c>AF_ALG</c> and <c>AF_VSOCK</c> families, and <c>personality</c> other than the usual
    /// execution domains. <c>clone3</c> returns ENOSYS, so the C library falls back to <c>clone</c>, whose flags a
    /// filter can read. System calls newer than this runtime knows return ENOSYS.
    /// </summary>
    public static LinuxSeccomp Default { get; } = Build(sandbox: false);

    /// <summary>
    /// The sandbox profile: <see cref="Default"/> without <c>ptrace</c>, <c>process_vm_readv</c>/<c>writev</c>,
    /// <c>chroot</c>, <c>name_to_handle_at</c>, <c>modify_ldt</c>, <c>memfd_secret</c>, <c>fanotify_mark</c>,
    /// <c>adjtimex</c>, <c>clock_adjtime</c>, <c>remap_file_pages</c>, scheduling policy changes and
    /// <c>ioprio_set</c>; sockets only of the <c>AF_UNIX</c>, <c>AF_INET</c> and <c>AF_INET6</c> families;
    /// <c>personality</c> only <c>PER_LINUX</c> (no <c>ADDR_NO_RANDOMIZE</c>); and <c>ioctl</c> without
    /// <c>TIOCSTI</c> and <c>TIOCLINUX</c>, which push input into a terminal.
    /// </summary>
    public static LinuxSeccomp Sandbox => SandboxProfile.Value;

    /// <summary>
    /// Built on first use: most processes only ever use <see cref="Default"/>, which every spec gets, and building
    /// this one too cost a command line's start a few tens of microseconds before its container's clone. One object,
    /// whoever asks first (<see cref="PrecompiledFilters"/> knows it by reference).
    /// </summary>
    private static readonly Lazy<LinuxSeccomp> SandboxProfile = new(() => Build(sandbox: true), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether <paramref name="profile"/> is the <see cref="Sandbox"/> object itself (without building it).</summary>
    internal static bool IsSandbox(LinuxSeccomp profile) => SandboxProfile.IsValueCreated && ReferenceEquals(profile, SandboxProfile.Value);

    private static LinuxSeccomp Build(bool sandbox)
    {
        var allowed = sandbox ? Allowed.Except(NotInSandbox, StringComparer.Ordinal) : Allowed.Append("ioctl");
        var rules = ImmutableArray.CreateBuilder<LinuxSyscall>();
        rules.Add(new LinuxSyscall { Names = [.. allowed], Action = "SCMP_ACT_ALLOW" });
        rules.Add(new LinuxSyscall { Names = ["clone"], Action = "SCMP_ACT_ALLOW", Args = [MaskedEq(0, CloneNamespaceFlags, 0)] });
        rules.Add(new LinuxSyscall { Names = ["clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = SeccompAction.Enosys });
        if (sandbox)
        {
            foreach (var family in new ulong[] { 1, 2, 10 }) // AF_UNIX, AF_INET, AF_INET6
            {
                rules.Add(new LinuxSyscall { Names = ["socket"], Action = "SCMP_ACT_ALLOW", Args = [Eq(0, family)] });
            }

            rules.Add(new LinuxSyscall { Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [Eq(0, 0)] });
            rules.Add(new LinuxSyscall { Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [Eq(0, 0xffffffff)] });
            rules.Add(new LinuxSyscall
            {
                Names = ["ioctl"], Action = "SCMP_ACT_ALLOW",
                Args = [new() { Index = 1, Value = TiocSti, Op = "SCMP_CMP_NE" }, new() { Index = 1, Value = TiocLinux, Op = "SCMP_CMP_NE" }],
            });
        }
        else
        {
            rules.Add(new LinuxSyscall
            {
                Names = ["socket"], Action = "SCMP_ACT_ALLOW",
                Args = [new() { Index = 0, Value = AfVsock, Op = "SCMP_CMP_NE" }, new() { Index = 0, Value = AfAlg, Op = "SCMP_CMP_NE" }],
            });

            // PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32|UNAME26, and the query 0xffffffff
            foreach (var persona in new ulong[] { 0, 8, 0x20000, 0x20008, 0xffffffff })
            {
                rules.Add(new LinuxSyscall { Names = ["personality"], Action = "SCMP_ACT_ALLOW", Args = [Eq(0, persona)] });
            }
        }

        return new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            DefaultErrnoRet = SeccompAction.Eperm,
            Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
            Syscalls = rules.ToImmutable(),
        };
    }

    private static LinuxSeccompArg Eq(uint index, ulong value) => new() { Index = index, Value = value, Op = "SCMP_CMP_EQ" };

    private static LinuxSeccompArg MaskedEq(uint index, ulong mask, ulong value) =>
        new() { Index = index, Value = mask, ValueTwo = value, Op = "SCMP_CMP_MASKED_EQ" };
}
