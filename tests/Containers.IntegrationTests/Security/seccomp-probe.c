/*
 * seccomp-probe: makes each system call named on its command line with arguments the kernel itself would refuse
 * with an errno other than EPERM (null pointers, bad commands), and prints "name errno" (0 when the call succeeded,
 * or "signal N" when it killed the probe), one line each. Under a filter that refuses the call the errno is the
 * filter's; unconfined it is the kernel's own, so a test can tell the two apart.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long int80(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return ret;
#else
    (void)nr; (void)a; (void)b; (void)c;
    return -ENOSYS;
#endif
}

static long probe(const char *name)
{
    if (!strcmp(name, "mount")) return syscall(SYS_mount, NULL, NULL, NULL, 0, NULL);
    if (!strcmp(name, "umount2")) return syscall(SYS_umount2, NULL, 0);
    if (!strcmp(name, "unshare-user")) return syscall(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */ | 0x80000000);
    if (!strcmp(name, "clone-newns")) return syscall(SYS_clone, 0x00020000 /* CLONE_NEWNS */ | 0x00000100 /* CLONE_VM */ | 0x00010000 /* CLONE_THREAD without SIGHAND: EINVAL */, NULL, NULL, NULL, NULL);
    if (!strcmp(name, "clone3")) return syscall(SYS_clone3, NULL, 0);
    if (!strcmp(name, "setns")) return syscall(SYS_setns, -1, 0);
    if (!strcmp(name, "bpf")) return syscall(SYS_bpf, -1, NULL, 0);
    if (!strcmp(name, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
    if (!strcmp(name, "userfaultfd")) return syscall(SYS_userfaultfd, -1);
    if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, -1, 0, 0, 0, 0);
    if (!strcmp(name, "add_key")) return syscall(SYS_add_key, NULL, NULL, NULL, 0, 0);
    if (!strcmp(name, "io_uring_setup")) return syscall(SYS_io_uring_setup, 0, NULL);
    if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, -1L);
    if (!strcmp(name, "init_module")) return syscall(SYS_init_module, NULL, 0, NULL);
    if (!strcmp(name, "finit_module")) return syscall(SYS_finit_module, -1, NULL, 0);
    if (!strcmp(name, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, -1, NULL, 0);
    if (!strcmp(name, "socket-vsock")) return syscall(SYS_socket, 40 /* AF_VSOCK */, -1, 0);
    if (!strcmp(name, "socket-alg")) return syscall(SYS_socket, 38 /* AF_ALG */, -1, 0);
    if (!strcmp(name, "socket-inet")) return syscall(SYS_socket, 2 /* AF_INET */, -1, 0);
    if (!strcmp(name, "personality-norandom")) return syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */);
    if (!strcmp(name, "personality-query")) return syscall(SYS_personality, 0xffffffffUL) < 0 ? -1 : 0;
    if (!strcmp(name, "newer")) return syscall(470);
    if (!strncmp(name, "connect-", 8)) { /* connect-A.B.C.D: TCP to port 9 */
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
        if (inet_pton(AF_INET, name + 8, &to.sin_addr) != 1) { errno = EINVAL; return -2; }
        int s = (int)syscall(SYS_socket, AF_INET, 1 /* SOCK_STREAM */, 0);
        return s < 0 ? -1 : syscall(SYS_connect, s, &to, sizeof to);
    }
    if (!strcmp(name, "getpid")) return syscall(SYS_getpid) > 0 ? 0 : -1;
    if (!strcmp(name, "int80-getpid")) { long r = int80(20, 0, 0, 0); if (r < 0) { errno = (int)-r; return -1; } return 0; }
    if (!strcmp(name, "int80-mount")) { long r = int80(21, 0, 0, 0); if (r < 0) { errno = (int)-r; return -1; } return 0; }
    errno = EINVAL;
    return -2;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        /* each probe in a child: one that kills (a filter's KILL, int 0x80 without IA32 emulation) ends only itself */
        int pipefd[2];
        if (pipe(pipefd) < 0)
            return 2;
        pid_t pid = fork();
        if (pid == 0) {
            close(pipefd[0]);
            errno = 0;
            long r = probe(argv[i]);
            int e = r < 0 ? errno : 0;
            if (r == -2)
                return 3;
            if (write(pipefd[1], &e, sizeof e) != sizeof e)
                return 2;
            _exit(0);
        }
        close(pipefd[1]);
        int e = 0, status = 0;
        ssize_t got = read(pipefd[0], &e, sizeof e);
        close(pipefd[0]);
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status))
            printf("%s signal %d\n", argv[i], WTERMSIG(status));
        else if (got != sizeof e)
            printf("%s unknown\n", argv[i]);
        else
            printf("%s %d\n", argv[i], e);
    }
    return 0;
}
