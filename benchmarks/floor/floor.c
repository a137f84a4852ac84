/*
 * The kernel's floor under a container start, without the runtime: the same clone, mounts and exec as
 * StartupBenchmarks.ContainerStart, done by a C loop. Three ways, in turns (shuffled each round), each timed from
 * the clone to the reaped exit:
 *   plain      vfork + execve of /bin/true (what Process.Start does underneath)
 *   isolated   clone with new pid, mount, uts and ipc namespaces, the rootfs bound onto itself, the host's /usr
 *              bound read-only, /proc, pivot_root, the old root detached, execve of /usr/bin/true
 *   +helper    isolated, but exec'd through containers-init from a memfd, as the runtime does
 * and, given cgroup v1 parent directories (one per hierarchy) as further arguments, two more, as
 * StartupBenchmarks.ContainerStartWithLimits (memory 256 MiB, 64 pids, one CPU):
 *   +limits    +helper, the child first moving itself into a new cgroup in each hierarchy by writing 0 to its tasks
 *              file, as the runtime's v1 plan does; the cgroups are made (with their limits) before the clone and
 *              removed after the reap, untimed, as the runtime's pool makes them in the background
 *   +reused    +limits, but the same cgroups every time (the runtime never reuses one: their counters cannot be reset)
 * Usage: floor ROOTFS CONTAINERS_INIT ROUNDS [CGROUP_PARENT...] (as root; benchmarks/floor.sh prepares the rootfs
 * and finds the parents: the hierarchies' cgroups this process is in).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

#define MAX_HIERARCHIES 16
static char **parents;
static int hierarchies;
static int tasks[MAX_HIERARCHIES];       /* the tasks files the child writes, one per hierarchy */
static int reused_tasks[MAX_HIERARCHIES];
static char made[MAX_HIERARCHIES][4096]; /* the fresh cgroups of the current +limits run */
static char reused[MAX_HIERARCHIES][4096];

static int write_file(const char *dir, const char *name, const char *value)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : write(fd, value, strlen(value));
    if (fd >= 0)
        close(fd);
    return n == (ssize_t)strlen(value) ? 0 : -1;
}

static int copy_file(const char *from, const char *to, const char *name)
{
    char path[4200], value[4096];
    snprintf(path, sizeof(path), "%s/%s", from, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, value, sizeof(value) - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    value[n] = 0;
    return write_file(to, name, value);
}

/* A new cgroup below each parent with ContainerStartWithLimits' limits (a file a hierarchy lacks is skipped),
 * and its tasks file opened into fds. */
static void make_cgroups(const char *name, int *fds, char (*dirs)[4096])
{
    for (int h = 0; h < hierarchies; h++) {
        snprintf(dirs[h], sizeof(dirs[h]), "%s/%s", parents[h], name);
        char path[4200];
        snprintf(path, sizeof(path), "%s/cpuset.cpus", parents[h]);
        if (mkdir(dirs[h], 0755) ||
            (access(path, F_OK) == 0 && (copy_file(parents[h], dirs[h], "cpuset.cpus") || copy_file(parents[h], dirs[h], "cpuset.mems")))) {
            perror(dirs[h]);
            exit(1);
        }
        write_file(dirs[h], "memory.limit_in_bytes", "268435456");
        write_file(dirs[h], "pids.max", "64");
        write_file(dirs[h], "cpu.cfs_period_us", "100000");
        write_file(dirs[h], "cpu.cfs_quota_us", "100000");
        snprintf(path, sizeof(path), "%s/tasks", dirs[h]);
        if ((fds[h] = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
            perror(path);
            exit(1);
        }
    }
}

static void remove_cgroups(int *fds, char (*dirs)[4096])
{
    for (int h = 0; h < hierarchies; h++) {
        close(fds[h]);
        if (rmdir(dirs[h]))
            perror(dirs[h]);
    }
}

static int plain(void *arg)
{
    (void)arg;
    execve("/bin/true", argv_true, envp);
    _exit(127);
}

static int isolated(void *arg)
{
    for (int h = 0; arg == (void *)2 && h < hierarchies; h++)
        if (write(tasks[h], "0", 1) != 1)
            _exit(125);
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
    static long sequence;
    char name[64];
    snprintf(name, sizeof(name), "floor-%d-%ld", (int)getpid(), sequence++);
    if (way == 3)
        make_cgroups(name, tasks, made);
    else if (way == 4)
        memcpy(tasks, reused_tasks, sizeof(tasks));
    clock_gettime(CLOCK_MONOTONIC, &a);
    int flags = CLONE_VM | CLONE_VFORK | SIGCHLD | (way ? CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC : 0);
    pid_t pid = clone(way ? isolated : plain, stack + sizeof(stack), flags, way >= 3 ? (void *)2 : way == 2 ? (void *)1 : NULL);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "floor: way %d failed (status %d)\n", way, pid < 0 ? -1 : status);
        exit(1);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (way == 3)
        remove_cgroups(tasks, made);
    return (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc - 4 > MAX_HIERARCHIES) {
        fprintf(stderr, "usage: floor ROOTFS CONTAINERS_INIT ROUNDS [CGROUP_PARENT...]\n");
        return 2;
    }
    parents = argv + 4;
    hierarchies = argc - 4;
    int ways = hierarchies ? 5 : 3;
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
    static const char *names[] = {"plain", "isolated", "+helper", "+limits", "+reused"};
    double *times[5];
    if (hierarchies) {
        char name[64];
        snprintf(name, sizeof(name), "floor-%d-reused", (int)getpid());
        make_cgroups(name, reused_tasks, reused);
    }
    for (int w = 0; w < ways; w++)
        times[w] = calloc((size_t)rounds, sizeof(double));
    srand((unsigned)getpid());
    for (int r = -50; r < rounds; r++) {
        int order[5] = {0, 1, 2, 3, 4};
        for (int i = ways - 1; i > 0; i--) {
            int j = rand() % (i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < ways; i++) {
            double t = run(order[i]);
            if (r >= 0)
                times[order[i]][r] = t;
        }
    }
    if (hierarchies)
        remove_cgroups(reused_tasks, reused);
    double medians[5];
    for (int w = 0; w < ways; w++) {
        qsort(times[w], (size_t)rounds, sizeof(double), by_value);
        medians[w] = times[w][rounds / 2];
        printf("%-9s median %7.1f us  Q1 %7.1f us  ratio to plain %.2f", names[w], medians[w], times[w][rounds / 4], medians[w] / medians[0]);
        if (w >= 3)
            printf("  to +helper %.2f", medians[w] / medians[2]);
        printf("\n");
    }
    return 0;
}
