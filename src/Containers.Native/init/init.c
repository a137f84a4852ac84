/*
 * containers-init: what runs in a container right before the user's program (plan.h, "containers-init").
 * Built static without libc (-nostdlib), embedded in libcontainers-shim.so and exec'd from a sealed memfd, so the
 * process that execs the program never has the host's binary as /proc/self/exe. It execs the program in place,
 * or, asked to keep it, forks it and stays as the reaper that reports its exit status over a pipe of its own.
 */
#include <linux/fcntl.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <asm/ioctls.h>
#include <asm/signal.h>

#include "../plan.h"
#include "../raw.h"

static void ct_exit(int code)
{
    for (;;)
        SYS1(SYS_exit_group, code);
}

static void ct_report(int fd, int kind, int op, int value)
{
    struct ct_report r = {.kind = kind, .op = op, .value = value, .reserved = 0};
    SYS3(SYS_write, fd, &r, sizeof(r));
}

/* Parses one decimal field of the control argument (a leading '-' allowed) and steps past its ','. */
static long ct_field(const char **p)
{
    int negative = **p == '-';
    if (negative)
        (*p)++;
    unsigned long value = 0;
    while (**p >= '0' && **p <= '9')
        value = value * 10 + (unsigned long)(*(*p)++ - '0');
    if (**p == ',')
        (*p)++;
    return negative ? -(long)value : (long)value;
}

static void ct_exec_program(char **argv, char **envp, int error_fd, int op)
{
    const char *file = argv[2];
    const char *path = argv[3];
    SYS3(SYS_fcntl, error_fd, F_SETFD, FD_CLOEXEC);
    uint64_t empty = 0;
    SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8);
    long r = ct_execvpe(file, argv + 4, envp, path);
    ct_report(error_fd, CT_REPORT_ERROR, op, (int)-r);
    ct_exit(127);
}

static int ct_exit_code(int status)
{
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
}

/* Reaps every exited child; once the program is among them, reports its status and exits. */
static void ct_reap(long program, int status_fd, int init_status)
{
    for (;;) {
        int status = 0;
        long pid = SYS4(SYS_wait4, -1, &status, WNOHANG | __WALL, 0);
        if (pid <= 0)
            return;
        if (pid != program)
            continue;
        int code = ct_exit_code(status);
        ct_report(status_fd, CT_REPORT_STATUS, -1, init_status ? code << 8 : status);
        ct_exit(code);
    }
}

/* The keeper's whole life once the program runs: it never returns. */
static void ct_keep(long program, uint64_t forward, int status_fd, int init_status)
{
    SYS3(SYS_close_range, 0, status_fd - 1, 0);
    SYS3(SYS_close_range, status_fd + 1, ~0U, 0);
    SYS2(SYS_prctl, PR_SET_NAME, "init");
    /* Nothing in the container may read this process's memory, environment or files through /proc (a process
     * without CAP_SYS_PTRACE cannot open /proc/1/environ, mem, exe or map_files of a non-dumpable one). */
    SYS2(SYS_prctl, PR_SET_DUMPABLE, 0);
    /* A SIGCHLD from before this point is pending and would wake the loop, but a first pass costs one call. */
    ct_reap(program, status_fd, init_status);
    uint64_t all = ~0ULL;
    for (;;) {
        uint64_t info[16];
        long sig = SYS4(SYS_rt_sigtimedwait, &all, info, 0, 8);
        if (sig == SIGCHLD)
            ct_reap(program, status_fd, init_status);
        else if (sig > 0 && sig <= 64 && (forward & (1ULL << (sig - 1))))
            SYS2(SYS_kill, program, sig);
    }
}

static int ct_is_init(const char *arg0)
{
    return arg0[0] == 'i' && arg0[1] == 'n' && arg0[2] == 'i' && arg0[3] == 't' && arg0[4] == 0;
}

__attribute__((used)) void ct_start(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    if (argc < 4 || !ct_is_init(argv[0])) {
        /* Someone exec'd this memfd another way, e.g. a program that re-execs /proc/self/exe of its parent. */
        static const char refusal[] = "containers-init: runs only as the last step of a container's start\n";
        SYS3(SYS_write, 2, refusal, sizeof(refusal) - 1);
        ct_exit(127);
    }
    const char *control = argv[1];
    long flags = ct_field(&control);
    int op = (int)ct_field(&control);
    int error_fd = (int)ct_field(&control);
    int status_fd = (int)ct_field(&control);
    uint64_t forward = (uint64_t)ct_field(&control);
    if (!(flags & CT_F_KEEP))
        ct_exec_program(argv, envp, error_fd, op);

    /* The shim execs this with every signal blocked already; blocking them here too keeps a signal from acting
     * (SIGCHLD from being discarded) before rt_sigtimedwait takes it, whoever started this. */
    uint64_t all = ~0ULL;
    SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, 8);
    /* SIG_IGN on SIGCHLD would let the kernel reap the program itself and take its status with it. Set before
     * the fork: setting SIG_DFL discards a pending SIGCHLD (its default action is to ignore it), blocked or not. */
    uint64_t dfl[4] = {0, 0, 0, 0};
    SYS4(SYS_rt_sigaction, SIGCHLD, dfl, 0, 8);
    /* Outside a new pid namespace orphans would go to the host's init: adopt them here. */
    long r = SYS2(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1);
    if (r == 0)
        r = SYS3(SYS_fcntl, status_fd, F_SETFD, FD_CLOEXEC);
    long keeper = SYS0(SYS_getpid);
    long pid = r < 0 ? r : ct_sys(SYS_clone, SIGCHLD, 0, 0, 0, 0, 0);
    if (pid < 0) {
        ct_report(error_fd, CT_REPORT_ERROR, op, (int)-pid);
        ct_exit(127);
    }
    if (pid > 0)
        ct_keep(pid, forward, status_fd, (flags & CT_F_INIT_STATUS) != 0);

    SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (SYS0(SYS_getppid) != keeper)
        ct_exit(127);
    if (flags & CT_F_FOREGROUND) {
        /* TIOCSPGRP from a background group raises SIGTTOU, which stays blocked until exec. */
        int self = (int)SYS0(SYS_getpid);
        r = SYS2(SYS_setpgid, 0, 0);
        if (r == 0)
            r = SYS3(SYS_ioctl, 0, TIOCSPGRP, &self);
        if (r < 0) {
            ct_report(error_fd, CT_REPORT_ERROR, op, (int)-r);
            ct_exit(127);
        }
    }
    ct_exec_program(argv, envp, error_fd, op);
}

/* The kernel enters with the stack holding argc, argv[], NULL, envp[], NULL, auxv. */
#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "xor %ebp, %ebp\n"
        "mov %rsp, %rdi\n"
        "and $-16, %rsp\n"
        "call ct_start\n"
        "hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "mov x29, xzr\n"
        "mov x30, xzr\n"
        "mov x0, sp\n"
        "bl ct_start\n"
        "brk #0\n");
#endif
