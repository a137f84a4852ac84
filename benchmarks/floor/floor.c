/*
 * The kernel's floor under a container start, without the runtime: the same clone, mounts and exec as
 * StartupBenchmarks.ContainerStart, done by a C loop. Three ways, in turns (shuffled each round), each timed from
 * the clone to the reaped exit:
 *   plain      vfork + execve of /bin/true (what Process.Start does underneath)
 *   isolated   clone with new pid, mount, uts and ipc namespaces, the rootfs bound onto itself, the host's /usr
 *              bound read-only, /proc, pivot_root, the old root detached, execve of /usr/bin/true
 *   +helper    isolated, but exec'd through containers-init from a memfd, as the runtime does
 * Usage: floor ROOTFS CONTAINERS_INIT ROUNDS (as root; benchmarks/floor.sh prepares the rootfs).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *const argv_true[] = {"true", NULL};
static char *const argv_init[] = {"init", "0,0,-1,-1,0", "/usr/bin/true", "/usr/bin:/bin", "true", NULL};
static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
static const char *root;
static int init_fd = -1;
static char stack[256 * 1024] __attribute__((aligned(16)));

static int plain(void *arg)
{
    (void)arg;
    execve("/bin/true", argv_true, envp);
    _exit(127);
}

static int isolated(void *arg)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) || mount(root, root, NULL, MS_BIND, NULL) || chdir(root) ||
        mount("/usr", "usr", NULL, MS_BIND, NULL) || mount(NULL, "usr", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) ||
        mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) || syscall(SYS_pivot_root, ".", ".") ||
        umount2(".", MNT_DETACH) || chdir("/"))
        _exit(126);
    if (arg)
        syscall(SYS_execveat, init_fd, "", argv_init, envp, AT_EMPTY_PATH);
    else
        execve("/usr/bin/true", argv_true, envp);
    _exit(127);
}

static double run(int way)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int flags = CLONE_VM | CLONE_VFORK | SIGCHLD | (way ? CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC : 0);
    pid_t pid = clone(way ? isolated : plain, stack + sizeof(stack), flags, way == 2 ? (void *)1 : NULL);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "floor: way %d failed (status %d)\n", way, pid < 0 ? -1 : status);
        exit(1);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: floor ROOTFS CONTAINERS_INIT ROUNDS\n");
        return 2;
    }
    root = argv[1];
    int rounds = atoi(argv[3]);
    int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
    init_fd = memfd_create("containers-init", MFD_CLOEXEC);
    char buf[65536];
    ssize_t n;
    while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
        if (write(init_fd, buf, (size_t)n) != n)
            return 1;
    if (fd < 0)
        return perror(argv[2]), 1;
    close(fd);
    static const char *names[] = {"plain", "isolated", "+helper"};
    double *times[3];
    for (int w = 0; w < 3; w++)
        times[w] = calloc((size_t)rounds, sizeof(double));
    srand((unsigned)getpid());
    for (int r = -50; r < rounds; r++) {
        int order[3] = {0, 1, 2};
        for (int i = 2; i > 0; i--) {
            int j = rand() % (i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < 3; i++) {
            double t = run(order[i]);
            if (r >= 0)
                times[order[i]][r] = t;
        }
    }
    double base = 0;
    for (int w = 0; w < 3; w++) {
        qsort(times[w], (size_t)rounds, sizeof(double), by_value);
        double median = times[w][rounds / 2];
        if (w == 0)
            base = median;
        printf("%-9s median %7.1f us  Q1 %7.1f us  ratio to plain %.2f\n", names[w], median, times[w][rounds / 4], median / base);
    }
    return 0;
}
