/*
 * escape: tries one attack per argument from inside a container and prints "<attack> <outcome>" per line. The
 * outcome is the errno name the attempt failed with, "0" for a read that found nothing, "contained" for an
 * attempt that ran but stayed inside, or "ESCAPED" when it succeeded. The tests assert the expected outcome of
 * each attack, so an attempt that fails for another reason than the protection it tests is caught too.
 * Built statically by the tests (gcc -static), so it needs nothing from the container's files.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char *outcome(long r)
{
    if (r >= 0)
        return "ESCAPED";
    static char name[32];
    const char *n = strerrorname_np(errno);
    snprintf(name, sizeof(name), "%s", n ? n : "E?");
    return name;
}

static void report(const char *attack, const char *result)
{
    printf("%s %s\n", attack, result);
    fflush(stdout);
}

/* Reads a whole file: "0" when it is empty (a mask), the errno when it cannot be read, ESCAPED when it has data. */
static const char *read_all(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return outcome(-1);
    char buf[4096];
    long n = read(fd, buf, sizeof(buf));
    close(fd);
    return n < 0 ? outcome(-1) : n == 0 ? "0" : "ESCAPED";
}

static const char *write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return outcome(-1);
    long n = write(fd, text, strlen(text));
    close(fd);
    return outcome(n);
}

/* The classic chroot escape: chroot into a subdirectory, then walk up from the old cwd. Contained when the root
 * reached is still the container's (it has /.escape-marker, which the test puts there). */
static const char *chroot_escape(void)
{
    mkdir("/tmp/jail", 0700);
    int keep = open("/", O_RDONLY | O_DIRECTORY);
    if (chroot("/tmp/jail") < 0)
        return outcome(-1);
    fchdir(keep);
    close(keep);
    for (int i = 0; i < 64; i++)
        chdir("..");
    chroot(".");
    return access("/escape-marker", F_OK) == 0 ? "contained" : "ESCAPED";
}

/* Any fd above 2 that the container was given: a leaked host directory would let it walk out. */
static const char *inherited_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return outcome(-1);
    int extra = 0, self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd > 2 && fd != self)
            extra++;
    }
    closedir(d);
    return extra ? "ESCAPED" : "contained";
}

/* No process visible in the container may expose a host binary for writing through /proc/PID/exe. */
static const char *proc_exe(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return outcome(-1);
    struct dirent *e;
    const char *result = "contained";
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
        int fd = open(path, O_WRONLY);
        if (fd >= 0) {
            char b = 0;
            if (write(fd, &b, 0) == 0 && pwrite(fd, "", 0, 0) == 0)
                result = "ESCAPED";
            close(fd);
        }
    }
    closedir(d);
    return result;
}

static const char *bpf_attack(void)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    return outcome(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
}

static const char *perf_attack(void)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.exclude_kernel = 1;
    return outcome(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
}

static const char *open_by_handle(void)
{
    struct {
        unsigned int bytes;
        int type;
        unsigned char f[8];
    } h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}}; /* shocker: ext4's root inode, generation 0 */
    int mount_fd = open("/", O_RDONLY | O_DIRECTORY);
    long r = syscall(SYS_open_by_handle_at, mount_fd, &h, O_RDONLY);
    int saved = errno;
    close(mount_fd);
    errno = saved;
    return outcome(r);
}

#if defined(__x86_64__)
/* A system call through the i386 entry point (int 0x80), in a child: a kernel without IA32 emulation kills it
 * with SIGSEGV before any filter runs. unshare (i386 number 310) with CLONE_NEWUSER: a filter that checks only
 * x86_64 numbers would let it through. getpid (20) tells whether the kernel runs i386 calls at all. */
static const char *int80(long number, long arg)
{
    int pipefd[2];
    if (pipe(pipefd) < 0)
        return outcome(-1);
    pid_t pid = fork();
    if (pid == 0) {
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(number), "b"(arg) : "memory");
        write(pipefd[1], &r, sizeof(r));
        _exit(0);
    }
    close(pipefd[1]);
    long r = 0;
    long n = read(pipefd[0], &r, sizeof(r));
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n != sizeof(r))
        return WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) == NULL ? "signal" : sigabbrev_np(WTERMSIG(status)) : "E?";
    if (r < 0) {
        errno = (int)-r;
        return outcome(-1);
    }
    return number == 20 ? "0" : "ESCAPED";
}
#endif

/*
 * Forks children that wait, until a fork fails: prints "forked N" and returns the errno of the failed fork, or
 * ESCAPED past 10 000 (no limit stopped it). The children are killed and reaped before it returns.
 */
static const char *fork_bomb(void)
{
    enum { most = 10000 };
    static pid_t children[most];
    int n = 0;
    const char *result = "ESCAPED";
    while (n < most) {
        pid_t pid = fork();
        if (pid < 0) {
            result = outcome(-1);
            break;
        }
        if (pid == 0) {
            pause();
            _exit(0);
        }
        children[n++] = pid;
    }
    printf("forked %d\n", n);
    for (int i = 0; i < n; i++)
        kill(children[i], SIGKILL);
    for (int i = 0; i < n; i++)
        waitpid(children[i], NULL, 0);
    return result;
}

/* Allocates and touches MiB mebibytes; ESCAPED when it all fits (a memory limit kills the process first). */
static const char *allocate(const char *mib)
{
    long n = atol(mib);
    for (long i = 0; i < n; i++) {
        char *chunk = malloc(1 << 20);
        if (!chunk)
            return outcome(-1);
        memset(chunk, 1, 1 << 20);
    }
    return "ESCAPED";
}

/* clone(2) with CLONE_NEWUSER: a new user namespace, where the child would hold every capability. */
static const char *clone_user(void)
{
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        syscall(SYS_exit, 0);
    if (pid < 0)
        return outcome(-1);
    waitpid((pid_t)pid, NULL, 0);
    return "ESCAPED";
}

/* clone3(2) with CLONE_NEWUSER: its flags are behind a pointer a filter cannot read, so filters refuse it whole. */
static const char *clone3_user(void)
{
    struct {
        unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    } args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid == 0)
        syscall(SYS_exit, 0);
    if (pid < 0)
        return outcome(-1);
    waitpid((pid_t)pid, NULL, 0);
    return "ESCAPED";
}

/* Prints "found PATH" for every file named find_name in the container's tree, /proc and /sys left out. */
static const char *find_name;

static int find_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    if (!strcmp(path, "/proc") || !strcmp(path, "/sys"))
        return FTW_SKIP_SUBTREE;
    if (!strcmp(path + ftw->base, find_name))
        printf("found %s\n", path);
    return FTW_CONTINUE;
}

static const char *find(const char *name)
{
    find_name = name;
    return nftw("/", find_visit, 64, FTW_PHYS | FTW_ACTIONRETVAL) < 0 ? outcome(-1) : "done";
}

static const char *run(const char *a, const char *arg)
{
    if (!strcmp(a, "mount"))
        return outcome(mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
    if (!strcmp(a, "umount"))
        return outcome(umount2("/proc", MNT_DETACH));
    if (!strcmp(a, "pivot_root"))
        return outcome(syscall(SYS_pivot_root, "/tmp", "/tmp"));
    if (!strcmp(a, "chroot"))
        return chroot_escape();
    if (!strcmp(a, "fds"))
        return inherited_fds();
    if (!strcmp(a, "mknod"))
        return outcome(mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0)));
    if (!strcmp(a, "disk"))
        return outcome(open("/dev/sda", O_RDONLY));
    if (!strcmp(a, "remount-proc-sys"))
        return outcome(mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
    if (!strcmp(a, "remount-sys"))
        return outcome(mount(NULL, "/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
    if (!strcmp(a, "core_pattern"))
        return write_file("/proc/sys/kernel/core_pattern", "|/tmp/x");
    if (!strcmp(a, "sysrq"))
        return write_file("/proc/sysrq-trigger", "h");
    if (!strcmp(a, "cgroup")) {
        mkdir("/tmp/cg", 0700);
        return outcome(mount("cgroup", "/tmp/cg", "cgroup", 0, "memory"));
    }
    if (!strcmp(a, "open_by_handle_at"))
        return open_by_handle();
    if (!strcmp(a, "ptrace"))
        return outcome(ptrace(PTRACE_ATTACH, atoi(arg), 0, 0));
    if (!strcmp(a, "kill"))
        return outcome(kill(atoi(arg), 0));
    if (!strcmp(a, "init_module"))
        return outcome(syscall(SYS_init_module, "", 0, ""));
    if (!strcmp(a, "finit_module")) {
        int fd = open("/proc/self/exe", O_RDONLY);
        long r = syscall(SYS_finit_module, fd, "", 0);
        int saved = errno;
        close(fd);
        errno = saved;
        return outcome(r);
    }
    if (!strcmp(a, "kexec_load"))
        return outcome(syscall(SYS_kexec_load, 0, 0, NULL, 0));
    if (!strcmp(a, "reboot"))
        return outcome(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, NULL));
    if (!strcmp(a, "bpf"))
        return bpf_attack();
    if (!strcmp(a, "perf_event_open"))
        return perf_attack();
    if (!strcmp(a, "userfaultfd"))
        return outcome(syscall(SYS_userfaultfd, 0));
    if (!strcmp(a, "keyctl"))
        return outcome(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "escape"));
    if (!strcmp(a, "unshare-user"))
        return outcome(unshare(CLONE_NEWUSER));
    if (!strcmp(a, "clone-user"))
        return clone_user();
    if (!strcmp(a, "clone3-user"))
        return clone3_user();
    if (!strcmp(a, "unshare-mount"))
        return outcome(unshare(CLONE_NEWNS));
    if (!strcmp(a, "setns")) {
        int fd = open("/proc/self/ns/mnt", O_RDONLY);
        return fd < 0 ? outcome(-1) : outcome(setns(fd, CLONE_NEWNS));
    }
    if (!strcmp(a, "clock_settime")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return outcome(clock_settime(CLOCK_REALTIME, &ts));
    }
    if (!strcmp(a, "swapon"))
        return outcome(swapon("/tmp/swap", 0));
    if (!strcmp(a, "acct"))
        return outcome(acct("/tmp/acct"));
    if (!strcmp(a, "kcore"))
        return read_all("/proc/kcore");
    if (!strcmp(a, "keys"))
        return read_all("/proc/keys");
#if defined(__x86_64__)
    if (!strcmp(a, "int80"))
        return int80(310, CLONE_NEWUSER);
    if (!strcmp(a, "int80-getpid"))
        return int80(20, 0);
#endif
    if (!strcmp(a, "euid")) { /* run as a setuid-root copy: the uid it gained, if any */
        static char text[32];
        snprintf(text, sizeof(text), "%u", (unsigned)geteuid());
        return text;
    }
    if (!strcmp(a, "tty"))
        return outcome(open("/dev/tty", O_RDWR));
    if (!strcmp(a, "tiocsti")) {
        const char *result = "ENOTTY";
        for (int fd = 0; fd < 3; fd++) {
            char c = '#';
            if (ioctl(fd, TIOCSTI, &c) == 0)
                return "ESCAPED";
            if (errno != ENOTTY)
                result = outcome(-1);
        }
        return result;
    }
    if (!strcmp(a, "self-exe"))
        return proc_exe();
    if (!strcmp(a, "fork-bomb"))
        return fork_bomb();
    if (!strcmp(a, "memory"))
        return allocate(arg);
    if (!strcmp(a, "console")) { /* write to /dev/console: a host file, if it were a link the runtime followed */
        int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
        if (fd < 0)
            return outcome(-1);
        long n = write(fd, "from the container\n", 19);
        close(fd);
        return n < 0 ? outcome(-1) : "written";
    }
    if (!strcmp(a, "write")) { /* a line into PATH: "written" (to a mask, the null device takes it) or the errno */
        const char *r = write_file(arg, "redirected\n");
        return strcmp(r, "ESCAPED") ? r : "written";
    }
    if (!strcmp(a, "kind")) { /* what PATH is: a bind of a terminal over a file turns it into a character device */
        struct stat st;
        if (lstat(arg, &st) < 0)
            return outcome(-1);
        return S_ISCHR(st.st_mode) ? "chardev" : S_ISREG(st.st_mode) ? "file" : "other";
    }
    if (!strcmp(a, "find"))
        return find(arg);
    if (!strcmp(a, "fstype")) { /* the filesystem PATH is on: proc, tmpfs, or the statfs magic in hex */
        static char type[32];
        struct statfs sfs;
        if (statfs(arg, &sfs) < 0)
            return outcome(-1);
        if (sfs.f_type == 0x9fa0)
            return "proc";
        if (sfs.f_type == 0x01021994)
            return "tmpfs";
        snprintf(type, sizeof(type), "0x%lx", (unsigned long)sfs.f_type);
        return type;
    }
    if (!strcmp(a, "uname")) { /* the UTS names, which a write to /proc/sys/kernel/{hostname,domainname} sets */
        static char names[2 * 65 + 2];
        struct utsname u;
        if (uname(&u) < 0)
            return outcome(-1);
        snprintf(names, sizeof(names), "%s/%s", u.nodename, u.domainname);
        return names;
    }
    if (!strcmp(a, "caps")) { /* the effective set, as /proc/self/status has it */
        static char line[256];
        FILE *f = fopen("/proc/self/status", "r");
        char buf[256];
        while (f && fgets(buf, sizeof(buf), f))
            if (!strncmp(buf, "CapEff:", 7))
                snprintf(line, sizeof(line), "%s", buf + 8);
        if (f)
            fclose(f);
        line[strcspn(line, "\n")] = 0;
        return line;
    }
    return "unknown-attack";
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *name = argv[i], *arg = strchr(name, '=');
        if (arg)
            *arg++ = 0;
        report(name, run(name, arg ? arg : ""));
    }
    return 0;
}
