/*
 * The start path of a container: validate a plan (plan.h), clone, and interpret the plan in the child with raw
 * system calls until execve. The child may share the parent's memory (CLONE_VM), so it never touches libc state
 * (errno, locks, TLS): every call below in the child goes through ct_sys, which returns -errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "plan.h"
#include "raw.h"

#define CT_EXPORT __attribute__((visibility("default")))
#define CT_STACK_SIZE (256 * 1024)
#define CT_MAX_SLOTS 256
#define CT_INIT_ARGS 4     /* containers-init's own arguments before the program's argv (plan.h) */
#define CT_CONTROL_SIZE 96 /* one control argument: five decimal fields */

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef MNT_DETACH
#define MNT_DETACH 2 /* <sys/mount.h> clashes with <linux/mount.h> */
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* ---- clone onto a stack of our own ---- */

#if defined(__x86_64__)
/* clone3 onto a new stack: the child calls fn(arg) there and exits with its result. */
static long ct_clone3_on_stack(struct clone_args *args, int (*fn)(void *), void *arg)
{
    register void *r12 __asm__("r12") = (void *)fn;
    register void *r13 __asm__("r13") = arg;
    long ret;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "mov %%r13, %%rdi\n\t"
                     "call *%%r12\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov $231, %%eax\n\t"
                     "syscall\n\t"
                     "hlt\n\t"
                     "1:\n\t"
                     : "=a"(ret)
                     : "a"((long)SYS_clone3), "D"(args), "S"(sizeof(*args)), "r"(r12), "r"(r13)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static long ct_clone3_on_stack(struct clone_args *args, int (*fn)(void *), void *arg)
{
    register long x8 __asm__("x8") = SYS_clone3;
    register long x0 __asm__("x0") = (long)args;
    register long x1 __asm__("x1") = sizeof(*args);
    register void *x19 __asm__("x19") = (void *)fn;
    register void *x20 __asm__("x20") = arg;
    __asm__ volatile("svc 0\n\t"
                     "cbnz x0, 1f\n\t"
                     "mov x29, xzr\n\t"
                     "mov x30, xzr\n\t"
                     "mov x0, x20\n\t"
                     "blr x19\n\t"
                     "mov x8, #94\n\t"
                     "svc 0\n\t"
                     "1:\n\t"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x19), "r"(x20)
                     : "x30", "memory");
    return x0;
}
#endif

/* ---- launch maps, kept for the next launch ---- */

/*
 * A launch's map (the child's stack, then its copy of the plan) is handed back here once the child no longer uses
 * it and kept for the next launch instead of unmapped: an munmap of memory that a CLONE_VM child and this process's
 * threads have used flushes the TLB on every CPU they ran on (an inter-processor interrupt each, dear in a VM), and
 * a fresh map faults its stack pages in again. Maps of the usual size are kept, at most CT_CACHED_MAPS of them (as
 * many as concurrent starts used); a plan too big for one gets a map of its own that is unmapped as before.
 */
#define CT_MAP_SIZE (CT_STACK_SIZE + 64 * 1024)
#define CT_CACHED_MAPS 64

static pthread_mutex_t ct_maps_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *ct_maps[CT_CACHED_MAPS];
static unsigned ct_map_count;

/* A map of at least need bytes, its first page a stack guard; its size in *size. NULL with errno on failure. */
static uint8_t *ct_map_take(size_t need, size_t page, size_t *size)
{
    if (need <= CT_MAP_SIZE) {
        uint8_t *kept = NULL;
        pthread_mutex_lock(&ct_maps_lock);
        if (ct_map_count > 0)
            kept = ct_maps[--ct_map_count];
        pthread_mutex_unlock(&ct_maps_lock);
        *size = CT_MAP_SIZE;
        if (kept != NULL)
            return kept;
        need = CT_MAP_SIZE;
    }
    size_t map_size = (need + page - 1) & ~(page - 1);
    uint8_t *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    mprotect(map, page, PROT_NONE); /* stack guard */
    *size = map_size;
    return map;
}

/* Hands back a map no child uses any more. */
static void ct_map_give(uint8_t *map, size_t size)
{
    if (size == CT_MAP_SIZE) {
        pthread_mutex_lock(&ct_maps_lock);
        int kept = ct_map_count < CT_CACHED_MAPS;
        if (kept)
            ct_maps[ct_map_count++] = map;
        pthread_mutex_unlock(&ct_maps_lock);
        if (kept)
            return;
    }
    munmap(map, size);
}

/* ---- launch state, shared with the child ---- */

struct ct_launch {
    size_t map_size;
    const uint8_t *plan;
    const struct ct_plan_header *header;
    const struct ct_op *ops;
    char **exec_vectors; /* per op: argv then envp, NULL-terminated, for EXEC ops */
    uint32_t exec_vector_count;
    int fds[CT_MAX_SLOTS];
    uint32_t nfds;
    int keep[CT_MAX_SLOTS + 1]; /* slot fds and the error pipe, ascending: the only fds above 2 the child keeps */
    uint32_t nkeep;
    int error_fd;
    int root_fd;
    int parent_pid;
    uint64_t ignored_signals; /* the child's: what its exec must reset (ct_ignored_signals) */
    int parent_fd;            /* the child's: the directory the last make op made its entry in, or -1 */
    char parent_path[128];    /* its path, as that op named it */
    int mask_fd;              /* the child's: the null device the last mask op checked (O_PATH), or -1 */
    uint32_t mask_source;     /* the plan string it was opened by */
    /* CT_PLAN_WAIT_PIVOT: 1 until the child's root is pivoted; the child clears it then, and the kernel at its
     * exec or exit (CLONE_CHILD_CLEARTID), each with a futex wake. */
    uint32_t pivot_pending;
};

static const char *ct_str(const struct ct_launch *l, uint32_t off)
{
    return off ? (const char *)(l->plan + off) : NULL;
}

static const uint32_t *ct_list(const struct ct_launch *l, uint32_t off, uint32_t *count)
{
    const uint32_t *p = (const uint32_t *)(l->plan + off);
    *count = p[0];
    return p + 1;
}

static void ct_fd_path(char *buf, int fd)
{
    static const char prefix[] = "/proc/self/fd/";
    char digits[12];
    int n = 0;
    ct_memcpy(buf, prefix, sizeof(prefix) - 1);
    do {
        digits[n++] = (char)('0' + fd % 10);
        fd /= 10;
    } while (fd);
    char *p = buf + sizeof(prefix) - 1;
    while (n)
        *p++ = digits[--n];
    *p = 0;
}

/* Opens path beneath the current root without following links out of it (O_PATH unless flags say otherwise). */
static long ct_open_in_root(const struct ct_launch *l, const char *path, uint64_t flags)
{
    if (l->root_fd < 0)
        return SYS4(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0);
    struct open_how how = {
        .flags = flags | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    return SYS4(SYS_openat2, l->root_fd, path, &how, sizeof(how));
}

/*
 * Opens path beneath the current root as an O_PATH fd without following its last component, and reads what is
 * there: its stat, and its /proc/self/fd path for the calls that take a path (so they act on this very inode, not on
 * whatever the name leads to by then). On failure nothing stays open.
 */
static long ct_open_nofollow(const struct ct_launch *l, const char *path, struct stat *st, char fd_path[32])
{
    long fd = ct_open_in_root(l, path, O_PATH | O_NOFOLLOW);
    if (fd < 0)
        return fd;
    long r = SYS4(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
    if (r < 0) {
        SYS1(SYS_close, fd);
        return r;
    }
    ct_fd_path(fd_path, (int)fd);
    return fd;
}

/* Attaches the detached mount mnt at path beneath the current root (move_mount(2) between two fds). */
static long ct_move_mount_to(const struct ct_launch *l, long mnt, const char *path)
{
    long target = ct_open_in_root(l, path, O_PATH);
    if (target < 0)
        return target;
    long r = SYS5(SYS_move_mount, mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    SYS1(SYS_close, target);
    return r;
}

/* Splits path into a parent directory (opened beneath the root) and its last component (in buf). */
static long ct_open_parent(const struct ct_launch *l, const char *path, char *buf, const char **base)
{
    size_t len = ct_strlen(path);
    if (len == 0 || len >= CT_PATH_MAX)
        return -ENAMETOOLONG;
    ct_memcpy(buf, path, len + 1);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = 0;
    size_t slash = len;
    while (slash > 0 && buf[slash - 1] != '/')
        slash--;
    *base = buf + slash;
    if (slash == 0)
        return ct_open_in_root(l, ".", O_PATH | O_DIRECTORY);
    if (slash == 1)
        return ct_open_in_root(l, "/", O_PATH | O_DIRECTORY);
    buf[slash - 1] = 0;
    return ct_open_in_root(l, buf, O_PATH | O_DIRECTORY);
}

enum ct_make { CT_MAKE_DIR, CT_MAKE_NODE, CT_MAKE_LINK };

/* Closes the parent directory ct_make keeps open for the next make op. */
static void ct_forget_parent(struct ct_launch *l)
{
    if (l->parent_fd >= 0)
        SYS1(SYS_close, l->parent_fd);
    l->parent_fd = -1;
}

static int ct_streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/*
 * Makes a directory, device node or link. The parent directory stays open for the next make op: a default spec
 * makes a dozen entries in /dev and several in /, each otherwise an openat2, the call and a close. The kept fd is
 * closed before any other op (ct_child), so it never outlives a mount, a root change or the fds' closing; between
 * make ops the parent cannot change, since a make op only adds an entry that did not exist.
 */
static long ct_make(struct ct_launch *l, enum ct_make kind, const char *path, uint64_t mode, uint64_t dev,
                    const char *link_target)
{
    char buf[CT_PATH_MAX];
    const char *base;
    long pfd;
    size_t len = ct_strlen(path);
    if (len == 0 || len >= CT_PATH_MAX)
        return -ENAMETOOLONG;
    size_t slash = len;
    while (slash > 0 && path[slash - 1] != '/')
        slash--;
    /* The parent's path as ct_open_parent opens it ("/" for "/x", "." for "x"; none with a trailing slash). */
    if (path[len - 1] != '/' && slash < sizeof(l->parent_path)) {
        char parent[sizeof(l->parent_path)];
        if (slash <= 1) {
            parent[0] = slash ? '/' : '.';
            parent[1] = 0;
        } else {
            ct_memcpy(parent, path, slash - 1);
            parent[slash - 1] = 0;
        }
        base = path + slash;
        if (l->parent_fd < 0 || !ct_streq(parent, l->parent_path)) {
            ct_forget_parent(l);
            pfd = ct_open_in_root(l, parent, O_PATH | O_DIRECTORY);
            if (pfd < 0)
                return pfd;
            l->parent_fd = (int)pfd;
            ct_memcpy(l->parent_path, parent, ct_strlen(parent) + 1);
        }
        pfd = l->parent_fd;
    } else {
        pfd = ct_open_parent(l, path, buf, &base);
        if (pfd < 0)
            return pfd;
    }
    long r;
    if (kind == CT_MAKE_DIR)
        r = SYS3(SYS_mkdirat, pfd, base, mode);
    else if (kind == CT_MAKE_NODE)
        r = SYS4(SYS_mknodat, pfd, base, mode, dev);
    else
        r = SYS3(SYS_symlinkat, link_target, pfd, base);
    if (pfd != l->parent_fd)
        SYS1(SYS_close, pfd);
    return r;
}

static long ct_mkdir_parents(struct ct_launch *l, const char *path, uint64_t mode)
{
    char buf[CT_PATH_MAX];
    size_t len = ct_strlen(path);
    if (len >= CT_PATH_MAX)
        return -ENAMETOOLONG;
    /* Most mount points' parents exist (/dev/pts, /dev/shm): the directory itself first, the walk only without its
     * parent, instead of opening every ancestor to find it there. */
    long leaf = ct_make(l, CT_MAKE_DIR, path, mode, 0, NULL);
    if (leaf != -ENOENT)
        return leaf == -EEXIST ? 0 : leaf;
    ct_memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        char saved = buf[i];
        buf[i] = 0;
        long r = ct_make(l, CT_MAKE_DIR, buf, mode, 0, NULL);
        buf[i] = saved;
        if (r < 0 && r != -EEXIST)
            return r;
    }
    return 0;
}

static long ct_report(const struct ct_launch *l, int kind, int op, int value)
{
    struct ct_report r = {.kind = kind, .op = op, .value = value, .reserved = 0};
    return SYS3(SYS_write, l->error_fd, &r, sizeof(r));
}

static long ct_mount(const struct ct_launch *l, const struct ct_op *op)
{
    const char *target = ct_str(l, op->s[1]);
    if (l->root_fd < 0)
        return SYS5(SYS_mount, ct_str(l, op->s[0]), target, ct_str(l, op->s[2]), op->n[0], ct_str(l, op->s[3]));
    long fd = ct_open_in_root(l, target, O_PATH);
    if (fd < 0)
        return fd;
    char path[32];
    ct_fd_path(path, (int)fd);
    long r = SYS5(SYS_mount, ct_str(l, op->s[0]), path, ct_str(l, op->s[2]), op->n[0], ct_str(l, op->s[3]));
    SYS1(SYS_close, fd);
    return r;
}

/* Closes the null device the mask ops keep open for the next mask op. */
static void ct_forget_mask(struct ct_launch *l)
{
    if (l->mask_fd >= 0)
        SYS1(SYS_close, l->mask_fd);
    l->mask_fd = -1;
}

/*
 * Masks a path as the container sees it: its type is read in the root, so a file the host has as a directory (or
 * the reverse) is still masked. A directory gets an empty read-only tmpfs; anything else a bind of the source,
 * which must be the null device itself: a symlink or another file there would expose what it points to.
 */
static long ct_mask(struct ct_launch *l, const struct ct_op *op)
{
    struct stat st;
    char path[32];
    long target = ct_open_nofollow(l, ct_str(l, op->s[1]), &st, path);
    if (target < 0)
        return target;
    long r;
    if (S_ISDIR(st.st_mode)) {
        r = SYS5(SYS_mount, "tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555");
        SYS1(SYS_close, target);
        return r;
    }
    /* Consecutive masks share the source they checked (ct_forget_mask closes it before any other op). */
    if (l->mask_fd < 0 || l->mask_source != op->s[0]) {
        ct_forget_mask(l);
        long source = SYS4(SYS_openat, AT_FDCWD, ct_str(l, op->s[0]), O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
        r = source < 0 ? source : SYS4(SYS_newfstatat, source, "", &st, AT_EMPTY_PATH);
        if (r == 0 && (!S_ISCHR(st.st_mode) || st.st_rdev != ((1ULL << 8) | 3ULL)))
            r = -ENODEV;
        if (r < 0) {
            if (source >= 0)
                SYS1(SYS_close, source);
            SYS1(SYS_close, target);
            return r;
        }
        l->mask_fd = (int)source;
        l->mask_source = op->s[0];
    }
    long tree = SYS3(SYS_open_tree, l->mask_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree >= 0) {
        r = SYS5(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        SYS1(SYS_close, tree);
    } else {
        r = tree;
    }
    SYS1(SYS_close, target);
    return r;
}

/* Checks that path is reached without any symlink and lies on the filesystem type magic (CHECK_FS). */
static long ct_check_fs(const struct ct_launch *l, const struct ct_op *op)
{
    long root = l->root_fd >= 0 ? l->root_fd : SYS4(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (root < 0)
        return root;
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS,
    };
    long fd = SYS4(SYS_openat2, root, ct_str(l, op->s[0]), &how, sizeof(how));
    if (root != l->root_fd)
        SYS1(SYS_close, root);
    if (fd < 0)
        return fd;
    struct statfs sfs;
    long r = SYS2(SYS_fstatfs, fd, &sfs);
    SYS1(SYS_close, fd);
    if (r == 0 && (uint64_t)sfs.f_type != op->n[0])
        r = -EXDEV;
    return r;
}

/* chdir beneath the root, never through a magic link (a leaked fd's /proc/self/fd/N would be a host directory). */
static long ct_chdir(const struct ct_launch *l, const struct ct_op *op)
{
    /* The root itself is the fd the root op keeps. */
    if (l->root_fd >= 0 && ct_streq(ct_str(l, op->s[0]), "/"))
        return SYS1(SYS_fchdir, l->root_fd);
    long root = l->root_fd >= 0 ? l->root_fd : SYS4(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (root < 0)
        return root;
    struct open_how how = {
        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    long fd = SYS4(SYS_openat2, root, ct_str(l, op->s[0]), &how, sizeof(how));
    if (root != l->root_fd)
        SYS1(SYS_close, root);
    if (fd < 0)
        return fd;
    long r = SYS1(SYS_fchdir, fd);
    SYS1(SYS_close, fd);
    return r;
}

static long ct_bind(struct ct_launch *l, const struct ct_op *op)
{
    if (op->flags & CT_F_MASK)
        return ct_mask(l, op);
    unsigned recursive = (op->flags & CT_F_RECURSIVE) ? AT_RECURSIVE : 0;
    long tree;
    /* A path bound onto itself in the root (a read-only path) is opened once, as the source and as the target:
     * nothing between the two uses changes what the name leads to. */
    long same = -1;
    if ((op->flags & CT_F_SOURCE_IN_ROOT) && l->root_fd >= 0) {
        long sfd = ct_open_in_root(l, ct_str(l, op->s[0]), O_PATH);
        if (sfd < 0)
            return sfd;
        tree = SYS3(SYS_open_tree, sfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | recursive);
        if (ct_streq(ct_str(l, op->s[0]), ct_str(l, op->s[1])))
            same = sfd;
        else
            SYS1(SYS_close, sfd);
    } else {
        tree = SYS3(SYS_open_tree, AT_FDCWD, ct_str(l, op->s[0]), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recursive);
    }
    long r = tree < 0 ? tree : 0;
    if (r == 0 && op->n[0]) {
        struct mount_attr attr = {.attr_set = op->n[0]};
        r = SYS5(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | recursive, &attr, sizeof(attr));
    }
    if (r == 0 && same >= 0)
        r = SYS5(SYS_move_mount, tree, "", same, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    else if (r == 0)
        r = ct_move_mount_to(l, tree, ct_str(l, op->s[1]));
    if (same >= 0)
        SYS1(SYS_close, same);
    if (tree >= 0)
        SYS1(SYS_close, tree);
    return r;
}

/* Splits a "key=value" param into buf: returns the value (NULL for a flag without '='), buf holding the key. */
static const char *ct_split_param(const char *param, char *buf)
{
    size_t len = ct_strlen(param);
    if (len >= CT_PATH_MAX)
        return NULL;
    ct_memcpy(buf, param, len + 1);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '=') {
            buf[i] = 0;
            return buf + i + 1;
        }
    }
    return NULL;
}

/* fsopen + one fsconfig per param + fsmount, then move_mount onto the target (plan.h, CT_OP_FSMOUNT). */
static long ct_fsmount(const struct ct_launch *l, const struct ct_op *op)
{
    long fs = SYS2(SYS_fsopen, ct_str(l, op->s[0]), FSOPEN_CLOEXEC);
    if (fs < 0)
        return fs;
    /* The directory by its path in this mount namespace, not through /proc/self/fd: overlay refuses a layer whose
     * mount belongs to another namespace (clone_private_mount), and the fd was opened in the parent's. */
    char dir[CT_PATH_MAX];
    long dir_len = 0;
    if (op->n[0] != UINT64_MAX) {
        char link[32];
        ct_fd_path(link, l->fds[op->n[0]]);
        dir_len = SYS4(SYS_readlinkat, AT_FDCWD, link, dir, sizeof(dir) - 1);
        if (dir_len < 0 || dir_len >= (long)sizeof(dir) - 1 || dir[0] != '/') {
            SYS1(SYS_close, fs);
            return dir_len < 0 ? dir_len : -ENAMETOOLONG;
        }
        dir[dir_len++] = '/';
    }
    uint32_t count;
    const uint32_t *items = ct_list(l, op->s[2], &count);
    char key[CT_PATH_MAX];
    char value[2 * CT_PATH_MAX];
    long r = 0;
    for (uint32_t i = 0; r == 0 && i < count; i++) {
        const char *param = ct_str(l, items[i]);
        if (ct_strlen(param) >= CT_PATH_MAX) {
            r = -ENAMETOOLONG;
            break;
        }
        const char *v = ct_split_param(param, key);
        if (v == NULL) {
            r = SYS5(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, key, NULL, 0);
        } else if (v[0] != '/' && dir_len > 0) {
            ct_memcpy(value, dir, (size_t)dir_len);
            ct_memcpy(value + dir_len, v, ct_strlen(v) + 1);
            r = SYS5(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value, 0);
        } else {
            r = SYS5(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, v, 0);
        }
    }
    if (r == 0)
        r = SYS5(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    long mnt = r < 0 ? r : SYS3(SYS_fsmount, fs, FSMOUNT_CLOEXEC, op->n[1]);
    SYS1(SYS_close, fs);
    if (mnt < 0)
        return mnt;
    r = ct_move_mount_to(l, mnt, ct_str(l, op->s[1]));
    SYS1(SYS_close, mnt);
    return r;
}

/* Writes all of data to fd. */
static long ct_write_all(long fd, const char *data, uint64_t left)
{
    while (left > 0) {
        long r = SYS3(SYS_write, fd, data, left);
        if (r == -EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? -EIO : r;
        data += r;
        left -= (uint64_t)r;
    }
    return 0;
}

/* A tmpfs filled through its own mount fd before it is attached anywhere (plan.h, CT_OP_TMPFS_FILES). */
static long ct_tmpfs_files(const struct ct_launch *l, const struct ct_op *op)
{
    long fs = SYS2(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        return fs;
    uint32_t count;
    const uint32_t *params = ct_list(l, op->s[0], &count);
    char key[CT_PATH_MAX];
    long r = 0;
    for (uint32_t i = 0; r == 0 && i < count; i++) {
        const char *param = ct_str(l, params[i]);
        if (ct_strlen(param) >= CT_PATH_MAX) {
            r = -ENAMETOOLONG;
            break;
        }
        const char *v = ct_split_param(param, key);
        r = v ? SYS5(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, v, 0) : SYS5(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, key, NULL, 0);
    }
    if (r == 0)
        r = SYS5(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    long mnt = r < 0 ? r : SYS3(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
    SYS1(SYS_close, fs);
    if (mnt < 0)
        return mnt;
    const uint32_t *names = ct_list(l, op->s[2], &count);
    uint32_t ncontents;
    const uint32_t *contents = ct_list(l, op->s[3], &ncontents);
    r = 0;
    for (uint32_t i = 0; r == 0 && i < count; i++) {
        long fd = SYS4(SYS_openat, mnt, ct_str(l, names[i]), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, op->n[0]);
        if (fd < 0) {
            r = fd;
            break;
        }
        uint32_t length;
        ct_memcpy(&length, l->plan + contents[i], 4);
        r = ct_write_all(fd, (const char *)(l->plan + contents[i] + 4), length);
        if (r == 0 && op->n[1] != UINT64_MAX)
            r = SYS3(SYS_fchown, fd, op->n[1], op->n[2]);
        SYS1(SYS_close, fd);
    }
    if (r == 0 && op->n[3]) {
        struct mount_attr attr = {.attr_set = op->n[3]};
        r = SYS5(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH, &attr, sizeof(attr));
    }
    if (r == 0)
        r = ct_move_mount_to(l, mnt, ct_str(l, op->s[1]));
    SYS1(SYS_close, mnt);
    return r;
}

static long ct_mount_setattr(const struct ct_launch *l, const struct ct_op *op)
{
    long fd = ct_open_in_root(l, ct_str(l, op->s[0]), O_PATH);
    if (fd < 0)
        return fd;
    struct mount_attr attr = {.attr_set = op->n[0], .attr_clr = op->n[1]};
    unsigned recursive = (op->flags & CT_F_RECURSIVE) ? AT_RECURSIVE : 0;
    long r = SYS5(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | recursive, &attr, sizeof(attr));
    SYS1(SYS_close, fd);
    return r;
}

static long ct_umount_detach(const struct ct_launch *l, const struct ct_op *op)
{
    if (l->root_fd < 0)
        return SYS2(SYS_umount2, ct_str(l, op->s[0]), MNT_DETACH);
    long fd = ct_open_in_root(l, ct_str(l, op->s[0]), O_PATH);
    if (fd < 0)
        return fd;
    char path[32];
    ct_fd_path(path, (int)fd);
    long r = SYS2(SYS_umount2, path, MNT_DETACH);
    SYS1(SYS_close, fd);
    return r;
}

static long ct_pivot_root(struct ct_launch *l)
{
    if (l->root_fd < 0)
        return -EINVAL;
    long r = SYS1(SYS_fchdir, l->root_fd);
    if (r == 0)
        r = SYS2(SYS_pivot_root, ".", ".");
    if (r == 0)
        r = SYS2(SYS_umount2, ".", MNT_DETACH);
    if (r == 0)
        r = SYS1(SYS_chdir, "/");
    if (r < 0)
        return r;
    SYS1(SYS_close, l->root_fd);
    l->root_fd = -1;
    r = SYS4(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (r < 0)
        return r;
    l->root_fd = (int)r;
    return 0;
}

static long ct_write_file(const struct ct_launch *l, const struct ct_op *op)
{
    char buf[CT_PATH_MAX];
    const char *base;
    int file_or_missing = (op->flags & CT_F_FILE_OR_MISSING) != 0;
    long pfd = ct_open_parent(l, ct_str(l, op->s[0]), buf, &base);
    if (pfd < 0)
        return file_or_missing && (pfd == -ENOENT || pfd == -ENOTDIR || pfd == -ELOOP) ? 0 : pfd;
    if (file_or_missing) {
        struct stat st;
        long r = SYS4(SYS_newfstatat, pfd, base, &st, AT_SYMLINK_NOFOLLOW);
        if (r == 0 ? !S_ISREG(st.st_mode) : r != -ENOENT) {
            SYS1(SYS_close, pfd);
            return r == 0 ? 0 : r;
        }
    }
    long fd = SYS4(SYS_openat, pfd, base, op->n[1] | O_CLOEXEC | O_NOFOLLOW, op->n[2]);
    SYS1(SYS_close, pfd);
    if (fd < 0)
        return fd;
    long r = ct_write_all(fd, op->s[1] ? (const char *)(l->plan + op->s[1]) : "", op->n[0]);
    SYS1(SYS_close, fd);
    return r;
}

static long ct_chown(const struct ct_launch *l, const struct ct_op *op)
{
    char buf[CT_PATH_MAX];
    const char *base;
    long pfd = ct_open_parent(l, ct_str(l, op->s[0]), buf, &base);
    if (pfd < 0)
        return pfd;
    if (!(op->flags & CT_F_SET_MODE)) {
        long r = SYS5(SYS_fchownat, pfd, base, op->n[0], op->n[1], AT_SYMLINK_NOFOLLOW);
        SYS1(SYS_close, pfd);
        return r;
    }
    long fd = SYS4(SYS_openat, pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    SYS1(SYS_close, pfd);
    if (fd < 0)
        return fd;
    struct stat st;
    long r = SYS5(SYS_fchownat, fd, "", op->n[0], op->n[1], AT_EMPTY_PATH);
    if (r == 0)
        r = SYS4(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH);
    if (r == 0 && !S_ISLNK(st.st_mode)) {
        char path[32];
        ct_fd_path(path, (int)fd);
        r = SYS3(SYS_fchmodat, AT_FDCWD, path, op->n[2]);
    }
    SYS1(SYS_close, fd);
    return r;
}

/* renameat2 between two paths beneath the root (plan.h, CT_OP_RENAME): a rename never follows a last component. */
static long ct_rename(const struct ct_launch *l, const struct ct_op *op)
{
    char from[CT_PATH_MAX], to[CT_PATH_MAX];
    const char *from_base, *to_base;
    long from_dir = ct_open_parent(l, ct_str(l, op->s[0]), from, &from_base);
    if (from_dir < 0)
        return from_dir;
    long to_dir = ct_open_parent(l, ct_str(l, op->s[1]), to, &to_base);
    long r = to_dir < 0 ? to_dir : SYS5(SYS_renameat2, from_dir, from_base, to_dir, to_base, op->n[0]);
    if (to_dir >= 0)
        SYS1(SYS_close, to_dir);
    SYS1(SYS_close, from_dir);
    return r;
}

/* unlinkat of a path beneath the root (plan.h, CT_OP_UNLINK). */
static long ct_unlink(const struct ct_launch *l, const struct ct_op *op)
{
    char buf[CT_PATH_MAX];
    const char *base;
    long dir = ct_open_parent(l, ct_str(l, op->s[0]), buf, &base);
    if (dir < 0)
        return dir;
    long r = SYS3(SYS_unlinkat, dir, base, op->n[0]);
    SYS1(SYS_close, dir);
    return r;
}

static long ct_dup2(const struct ct_launch *l, const struct ct_op *op)
{
    int src = l->fds[op->n[0]];
    int dst = (int)op->n[1];
    if (src == dst)
        return SYS3(SYS_fcntl, dst, F_SETFD, 0);
    long r = SYS3(SYS_dup3, src, dst, 0);
    return r < 0 ? r : 0;
}

static long ct_close_range(const struct ct_launch *l, const struct ct_op *op)
{
    uint32_t count;
    const uint32_t *keep = ct_list(l, op->s[0], &count);
    unsigned lo = 3;
    for (uint32_t i = 0; i < count; i++) {
        if (keep[i] < lo)
            continue;
        if (keep[i] > lo) {
            long r = SYS3(SYS_close_range, lo, keep[i] - 1, CLOSE_RANGE_CLOEXEC);
            if (r < 0)
                return r;
        }
        long r = SYS3(SYS_fcntl, keep[i], F_SETFD, 0);
        if (r < 0)
            return r;
        lo = keep[i] + 1;
    }
    return SYS3(SYS_close_range, lo, ~0U, CLOSE_RANGE_CLOEXEC);
}

/* Sends fd over the UNIX socket sock (SCM_RIGHTS, with one data byte). */
static long ct_send_fd(int sock, int fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    char byte = 'f';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    ct_memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    return SYS3(SYS_sendmsg, sock, &msg, MSG_NOSIGNAL);
}

/* Sends the one-byte message 'm' without an fd: the entry an OPEN_SEND with CT_F_MISSING_OK was asked for is gone. */
static long ct_send_missing(int sock)
{
    char byte = 'm';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    return SYS3(SYS_sendmsg, sock, &msg, MSG_NOSIGNAL);
}

static long ct_open_pty(const struct ct_launch *l, const struct ct_op *op)
{
    long master = ct_open_in_root(l, ct_str(l, op->s[0]), O_RDWR | O_NOCTTY);
    if (master < 0)
        return master;
    int unlock = 0;
    long r = SYS3(SYS_ioctl, master, TIOCSPTLCK, &unlock);
    long slave = r < 0 ? r : SYS3(SYS_ioctl, master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        SYS1(SYS_close, master);
        return slave;
    }
    r = ct_send_fd(l->fds[op->n[0]], (int)master);
    SYS1(SYS_close, master);
    for (int fd = 0; r >= 0 && fd < 3; fd++)
        r = SYS3(SYS_dup3, slave, fd, 0);
    SYS1(SYS_close, slave);
    return r < 0 ? r : 0;
}

/* Opens a path beneath the root for reading without following its last component and sends the fd over a socket
   (plan.h, CT_OP_OPEN_SEND). The path is resolved to an O_PATH fd first; only a regular file or a directory is then
   reopened for reading through /proc/self/fd/N, so no device is ever opened and the reopen cannot leave the root. */
static long ct_open_send(const struct ct_launch *l, const struct ct_op *op)
{
    struct stat st;
    char path[32];
    long fd = ct_open_nofollow(l, ct_str(l, op->s[0]), &st, path);
    /* ENOTDIR: a component on the way is not a directory, so the entry is not there either. */
    if ((fd == -ENOENT || fd == -ENOTDIR) && (op->flags & CT_F_MISSING_OK))
        return ct_send_missing(l->fds[op->n[0]]);
    if (fd < 0)
        return fd;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        long readable = SYS4(SYS_openat, AT_FDCWD, path,
                             O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0), 0);
        SYS1(SYS_close, fd);
        if (readable < 0)
            return readable;
        fd = readable;
    }
    long r = ct_send_fd(l->fds[op->n[0]], (int)fd);
    SYS1(SYS_close, fd);
    return r;
}

/* Takes one byte from the sync pipe; EOF means the parent gave up on this launch. */
static long ct_read_sync(const struct ct_launch *l)
{
    char byte;
    for (;;) {
        long r = SYS3(SYS_read, l->fds[CT_SLOT_SYNC], &byte, 1);
        if (r == 1)
            return 0;
        if (r == 0)
            return -ECANCELED;
        if (r != -EINTR)
            return r;
    }
}

static long ct_wait_fd(const struct ct_launch *l, uint32_t index, const struct ct_op *op)
{
    if (op->flags & CT_F_ANNOUNCE) {
        long w = ct_report(l, CT_REPORT_READY, (int)index, 0);
        if (w < 0)
            return w;
    }
    return ct_read_sync(l);
}

/*
 * The capability sets, in the order the kernel allows: the bounding set is reduced while CAP_SETPCAP is still
 * effective (made so from the permitted set first, which PR_SET_KEEPCAPS kept across a change of uid), then the
 * three sets are set, then the ambient ones raised (each must be permitted and inheritable by then). The plan lists
 * the capabilities to drop (no PR_CAPBSET_READ per capability); one read of the probe tells a clone from a launch
 * thread that dropped them already. Without drops and without an inheritable set the effective set needs no raise
 * (capset then checks only that the permitted set shrinks), and capset itself empties the ambient set (it keeps only
 * what is both permitted and inheritable): each skipped call is a credential commit saved.
 */
static long ct_capset(const struct ct_launch *l, const struct ct_op *op)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    uint32_t drops, count;
    const uint32_t *drop = ct_list(l, op->s[1], &drops);
    const uint32_t *ambient = ct_list(l, op->s[0], &count);
    long r;
    if (drops > 0 && op->n[3] != ~0ULL && SYS2(SYS_prctl, PR_CAPBSET_READ, op->n[3]) == 0)
        drops = 0;
    if (drops > 0 || op->n[2] != 0) {
        r = SYS2(SYS_capget, &header, data);
        if (r < 0)
            return r;
        data[0].effective = data[0].permitted;
        data[1].effective = data[1].permitted;
        r = SYS2(SYS_capset, &header, data);
        if (r < 0)
            return r;
    }
    for (uint32_t i = 0; i < drops; i++) {
        r = SYS2(SYS_prctl, PR_CAPBSET_DROP, drop[i]);
        if (r < 0)
            return r;
    }
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(op->n[0] >> (32 * i));
        data[i].permitted = (uint32_t)(op->n[1] >> (32 * i));
        data[i].inheritable = (uint32_t)(op->n[2] >> (32 * i));
    }
    r = SYS2(SYS_capset, &header, data);
    if (r < 0)
        return r;
    if (op->n[2] != 0)
        r = SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (uint32_t i = 0; r >= 0 && i < count; i++)
        r = SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, ambient[i], 0, 0);
    return r < 0 ? r : 0;
}

static long ct_seccomp(const struct ct_launch *l, const struct ct_op *op)
{
    struct sock_fprog prog = {.len = (unsigned short)op->n[0],
                              .filter = (struct sock_filter *)(l->plan + op->s[0])};
    long r = SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, op->n[1], &prog);
    if (r < 0 || !(op->n[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER))
        return r < 0 ? r : 0;
    /* The listener goes to the parent, which answers the notifications; this process keeps no copy. */
    long sent = ct_send_fd(l->fds[op->n[2]], (int)r);
    SYS1(SYS_close, r);
    return sent < 0 ? sent : 0;
}

/* The signals this process ignores, as the SigIgn mask of /proc/self/status (bit sig - 1), or all of them when it
 * cannot be read. Read by the child before its first op, while /proc is still the host's: an execve puts every
 * caught signal back to its default by itself and keeps only ignored ones ignored, so only those need a call before
 * it (one or two with .NET, which ignores SIGPIPE, instead of 62: each call is a few microseconds in a VM). */
static uint64_t ct_ignored_signals(void)
{
    char buf[2048];
    long fd = SYS4(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return ~0ULL;
    long n = SYS3(SYS_read, fd, buf, sizeof(buf) - 1);
    SYS1(SYS_close, fd);
    if (n <= 0)
        return ~0ULL;
    buf[n] = 0;
    static const char key[] = "\nSigIgn:\t";
    for (long i = 0; i + (long)sizeof(key) - 1 + 16 <= n; i++) {
        long k = 0;
        while (key[k] && buf[i + k] == key[k])
            k++;
        if (key[k])
            continue;
        uint64_t mask = 0;
        for (const char *h = buf + i + k; h < buf + i + k + 16; h++) {
            int v = *h >= '0' && *h <= '9' ? *h - '0' : *h >= 'a' && *h <= 'f' ? *h - 'a' + 10 : -1;
            if (v < 0)
                return ~0ULL;
            mask = mask << 4 | (uint64_t)v;
        }
        return mask;
    }
    return ~0ULL;
}

static void ct_default_handlers(const struct ct_launch *l)
{
    /* All-zero kernel sigaction is SIG_DFL with no flags and an empty mask on every architecture. */
    uint64_t action[4] = {0, 0, 0, 0};
    for (int sig = 1; sig <= 64; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP && (l->ignored_signals >> (sig - 1) & 1))
            SYS4(SYS_rt_sigaction, sig, action, 0, 8);
    }
}

static void ct_reset_signals(const struct ct_launch *l)
{
    ct_default_handlers(l);
    uint64_t empty = 0;
    SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8);
}

static long ct_exec(const struct ct_launch *l, uint32_t index, const struct ct_op *op)
{
    char **argv = l->exec_vectors + l->ops[index].reserved;
    if (op->flags & CT_F_VIA_INIT) {
        /* argv starts with containers-init's own four arguments (laid out by ct_launch). Signals stay blocked:
         * containers-init decides when they may act. The error pipe (and the status pipe) must outlive this exec:
         * containers-init reports the program's exec failure on it. */
        uint32_t argc;
        ct_list(l, op->s[1], &argc);
        char **envp = argv + CT_INIT_ARGS + argc + 1;
        ct_default_handlers(l);
        long r = SYS3(SYS_fcntl, l->error_fd, F_SETFD, 0);
        if (r == 0 && (op->flags & CT_F_KEEP))
            r = SYS3(SYS_fcntl, l->fds[CT_SLOT_STATUS], F_SETFD, 0);
        if (r == 0)
            r = SYS5(SYS_execveat, l->fds[CT_SLOT_INIT], "", argv, envp, AT_EMPTY_PATH);
        return r;
    }
    uint32_t argc;
    ct_list(l, op->s[1], &argc);
    char **envp = argv + argc + 1;
    ct_reset_signals(l);
    return ct_execvpe(ct_str(l, op->s[0]), argv, envp, op->s[3] ? ct_str(l, op->s[3]) : NULL);
}

static long ct_fork(struct ct_launch *l, uint32_t index, const struct ct_op *op)
{
    struct clone_args args = {.flags = CLONE_PARENT | op->n[0], .exit_signal = 0};
    long pid = SYS2(SYS_clone3, &args, sizeof(args));
    if (pid < 0)
        return pid;
    if (pid == 0) {
        if (!(l->header->flags & CT_PLAN_NO_PDEATHSIG))
            SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
        SYS2(SYS_prctl, PR_SET_DUMPABLE, 0);
        /* Go on only once the parent holds a pidfd for this process: it opens one by pid, and a host that reaps
         * every child could reap a process that had already exec'd and ended, freeing the pid. */
        return ct_read_sync(l);
    }
    ct_report(l, CT_REPORT_PID, (int)index, (int)pid);
    SYS1(SYS_exit_group, 0);
    return 0;
}

/* A new network namespace has "lo" down; SIOCSIFFLAGS on any socket of the namespace brings it up. */
static long ct_loopback_up(void)
{
    long fd = SYS3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    struct ifreq ifr;
    volatile char *bytes = (volatile char *)&ifr; /* volatile: no memset call into libc */
    for (size_t i = 0; i < sizeof(ifr); i++)
        bytes[i] = 0;
    ifr.ifr_name[0] = 'l';
    ifr.ifr_name[1] = 'o';
    long r = SYS3(SYS_ioctl, fd, SIOCGIFFLAGS, &ifr);
    if (r >= 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        r = SYS3(SYS_ioctl, fd, SIOCSIFFLAGS, &ifr);
    }
    SYS1(SYS_close, fd);
    return r < 0 ? r : 0;
}

static long ct_run_op(struct ct_launch *l, uint32_t index)
{
    const struct ct_op *op = &l->ops[index];
    switch (op->code) {
    case CT_OP_MOUNT:
        return ct_mount(l, op);
    case CT_OP_BIND:
        return ct_bind(l, op);
    case CT_OP_MKDIR:
        if (op->flags & CT_F_PARENTS)
            return ct_mkdir_parents(l, ct_str(l, op->s[0]), op->n[0]);
        return ct_make(l, CT_MAKE_DIR, ct_str(l, op->s[0]), op->n[0], 0, NULL);
    case CT_OP_MKNOD:
        return ct_make(l, CT_MAKE_NODE, ct_str(l, op->s[0]), op->n[0],
                       ((op->n[1] & 0xfffff000ULL) << 32) | ((op->n[1] & 0xfffULL) << 8) |
                           ((op->n[2] & 0xffffff00ULL) << 12) | (op->n[2] & 0xffULL),
                       NULL);
    case CT_OP_SYMLINK:
        return ct_make(l, CT_MAKE_LINK, ct_str(l, op->s[1]), 0, 0, ct_str(l, op->s[0]));
    case CT_OP_PIVOT_ROOT:
        return ct_pivot_root(l);
    case CT_OP_UMOUNT_DETACH:
        return ct_umount_detach(l, op);
    case CT_OP_MAKE_PRIVATE:
        return SYS5(SYS_mount, NULL, op->s[0] ? ct_str(l, op->s[0]) : "/", NULL, op->n[0], NULL);
    case CT_OP_SETHOSTNAME: {
        const char *name = ct_str(l, op->s[0]);
        return SYS2(SYS_sethostname, name, ct_strlen(name));
    }
    case CT_OP_SETRLIMIT: {
        uint64_t limit[2] = {op->n[1], op->n[2]};
        return SYS4(SYS_prlimit64, 0, op->n[0], limit, NULL);
    }
    case CT_OP_SETGROUPS: {
        uint32_t count;
        const uint32_t *gids = ct_list(l, op->s[0], &count);
        return SYS2(SYS_setgroups, count, gids);
    }
    case CT_OP_SETRESGID:
        return SYS3(SYS_setresgid, op->n[0], op->n[1], op->n[2]);
    case CT_OP_SETRESUID:
        return SYS3(SYS_setresuid, op->n[0], op->n[1], op->n[2]);
    case CT_OP_UMASK:
        SYS1(SYS_umask, op->n[0]);
        return 0;
    case CT_OP_PRCTL:
        return ct_sys(SYS_prctl, (long)op->n[0], (long)op->n[1], (long)op->n[2], (long)op->n[3], 0, 0);
    case CT_OP_WRITE_FILE:
        return ct_write_file(l, op);
    case CT_OP_CHOWN:
        return ct_chown(l, op);
    case CT_OP_OPEN_SEND:
        return ct_open_send(l, op);
    case CT_OP_RENAME:
        return ct_rename(l, op);
    case CT_OP_UNLINK:
        return ct_unlink(l, op);
    case CT_OP_DUP2:
        return ct_dup2(l, op);
    case CT_OP_CLOSE_RANGE:
        return ct_close_range(l, op);
    case CT_OP_SETSID: {
        long r = SYS0(SYS_setsid);
        return r < 0 ? r : 0;
    }
    case CT_OP_SETCTTY:
        return SYS3(SYS_ioctl, op->n[0], TIOCSCTTY, 0);
    case CT_OP_OPEN_PTY:
        return ct_open_pty(l, op);
    case CT_OP_WAIT_FD:
        return ct_wait_fd(l, index, op);
    case CT_OP_CHDIR:
        return ct_chdir(l, op);
    case CT_OP_SETNS:
        return SYS2(SYS_setns, l->fds[op->n[0]], op->n[1]);
    case CT_OP_EXEC:
        return ct_exec(l, index, op);
    case CT_OP_ROOT: {
        long fd = SYS4(SYS_openat, AT_FDCWD, ct_str(l, op->s[0]), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd < 0)
            return fd;
        if (l->root_fd >= 0)
            SYS1(SYS_close, l->root_fd);
        l->root_fd = (int)fd;
        return 0;
    }
    case CT_OP_FORK:
        return ct_fork(l, index, op);
    case CT_OP_MOUNT_SETATTR:
        return ct_mount_setattr(l, op);
    case CT_OP_SECCOMP:
        return ct_seccomp(l, op);
    case CT_OP_CAPSET:
        return ct_capset(l, op);
    case CT_OP_LOOPBACK_UP:
        return ct_loopback_up();
    case CT_OP_FSMOUNT:
        return ct_fsmount(l, op);
    case CT_OP_CGROUP_JOIN: {
        long r = SYS3(SYS_write, l->fds[op->n[0]], "0", 1);
        return r < 0 ? r : 0;
    }
    case CT_OP_UNSHARE:
        return SYS1(SYS_unshare, op->n[0]);
    case CT_OP_CHECK_FS:
        return ct_check_fs(l, op);
    case CT_OP_TMPFS_FILES:
        return ct_tmpfs_files(l, op);
    default:
        return -EINVAL;
    }
}

/* Closes every inherited fd above 2 that is not in the slot table: other launches' pipes, the runtime's files. */
static long ct_close_inherited(const struct ct_launch *l)
{
    unsigned lo = 3;
    for (uint32_t i = 0; i < l->nkeep; i++) {
        unsigned fd = (unsigned)l->keep[i];
        if (fd < lo)
            continue;
        if (fd > lo) {
            long r = SYS3(SYS_close_range, lo, fd - 1, 0);
            if (r < 0)
                return r;
        }
        lo = fd + 1;
    }
    return SYS3(SYS_close_range, lo, ~0U, 0);
}

static int ct_child(void *arg)
{
    struct ct_launch *l = arg;
    long closed = ct_close_inherited(l);
    if (closed < 0) {
        ct_report(l, CT_REPORT_ERROR, -1, (int)-closed);
        SYS1(SYS_exit_group, 127);
    }
    if (!(l->header->flags & CT_PLAN_NO_PDEATHSIG)) {
        SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
        /* The parent may have died before the prctl; outside a new pid namespace that shows as a new parent. */
        if (!(l->header->clone_flags & CLONE_NEWPID) && SYS0(SYS_getppid) != l->parent_pid)
            SYS1(SYS_exit_group, 127);
    }
    /* Dumpability belongs to the address space: a CLONE_VM child shares the parent's, so it stays as dumpable as
     * the parent until execve gives it its own. A fork-like child turns non-dumpable, but with a new user namespace
     * only after its first WAIT_FD: a non-dumpable child's /proc files belong to root, and an unprivileged parent
     * must write its uid_map meanwhile. */
    l->ignored_signals = ct_ignored_signals();
    int dumpable = (l->header->flags & CT_PLAN_FORK_LIKE) != 0;
    if (dumpable && !(l->header->clone_flags & CLONE_NEWUSER)) {
        SYS2(SYS_prctl, PR_SET_DUMPABLE, 0);
        dumpable = 0;
    }
    l->parent_fd = -1;
    l->mask_fd = -1;
    for (uint32_t i = 0; i < l->header->op_count; i++) {
        uint32_t code = l->ops[i].code;
        if (code != CT_OP_MKDIR && code != CT_OP_MKNOD && code != CT_OP_SYMLINK)
            ct_forget_parent(l);
        if (code != CT_OP_BIND || !(l->ops[i].flags & CT_F_MASK))
            ct_forget_mask(l);
        long r = ct_run_op(l, i);
        if (code == CT_OP_PIVOT_ROOT && r == 0 && (l->header->flags & CT_PLAN_WAIT_PIVOT) &&
            __atomic_exchange_n(&l->pivot_pending, 0, __ATOMIC_RELEASE))
            SYS3(SYS_futex, &l->pivot_pending, FUTEX_WAKE, 1);
        if (dumpable && l->ops[i].code == CT_OP_WAIT_FD) {
            SYS2(SYS_prctl, PR_SET_DUMPABLE, 0);
            dumpable = 0;
        }
        if (r == -EEXIST && (l->ops[i].flags & CT_F_EXIST_OK))
            r = 0;
        if (r == -ENOENT && (l->ops[i].flags & CT_F_MISSING_OK))
            r = 0;
        if (r < 0 && !(l->ops[i].flags & CT_F_OPTIONAL)) {
            ct_report(l, CT_REPORT_ERROR, (int)i, (int)-r);
            SYS1(SYS_exit_group, 127);
        }
    }
    /* A plan without EXEC ends here: the process exits successfully once its ops ran. */
    SYS1(SYS_exit_group, 0);
    return 0;
}

/* ---- validation (parent side, before anything is created) ---- */

enum ct_arg { A_NONE, A_STR, A_OPT_STR, A_STR_LIST, A_U32_LIST, A_BYTES, A_FILTER };

struct ct_shape {
    uint8_t s[4];
    int8_t slot; /* index into n[] holding an fd slot, or -1 */
};

static const struct ct_shape ct_shapes[CT_OP_MAX + 1] = {
    [CT_OP_MOUNT] = {{A_OPT_STR, A_STR, A_OPT_STR, A_OPT_STR}, -1},
    [CT_OP_BIND] = {{A_STR, A_STR, A_NONE, A_NONE}, -1},
    [CT_OP_MKDIR] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_MKNOD] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SYMLINK] = {{A_STR, A_STR, A_NONE, A_NONE}, -1},
    [CT_OP_PIVOT_ROOT] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_UMOUNT_DETACH] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_MAKE_PRIVATE] = {{A_OPT_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SETHOSTNAME] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SETRLIMIT] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SETGROUPS] = {{A_U32_LIST, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SETRESGID] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SETRESUID] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_UMASK] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_PRCTL] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_WRITE_FILE] = {{A_STR, A_BYTES, A_NONE, A_NONE}, -1},
    [CT_OP_DUP2] = {{A_NONE, A_NONE, A_NONE, A_NONE}, 0},
    [CT_OP_CLOSE_RANGE] = {{A_U32_LIST, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SETSID] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SETCTTY] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_OPEN_PTY] = {{A_STR, A_NONE, A_NONE, A_NONE}, 0},
    [CT_OP_WAIT_FD] = {{A_NONE, A_NONE, A_NONE, A_NONE}, 0},
    [CT_OP_CHDIR] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SETNS] = {{A_NONE, A_NONE, A_NONE, A_NONE}, 0},
    [CT_OP_EXEC] = {{A_STR, A_STR_LIST, A_STR_LIST, A_OPT_STR}, -1},
    [CT_OP_ROOT] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_FORK] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_MOUNT_SETATTR] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_SECCOMP] = {{A_FILTER, A_NONE, A_NONE, A_NONE}, 2},
    [CT_OP_CAPSET] = {{A_U32_LIST, A_U32_LIST, A_NONE, A_NONE}, -1},
    [CT_OP_LOOPBACK_UP] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_FSMOUNT] = {{A_STR, A_STR, A_STR_LIST, A_NONE}, -1},
    [CT_OP_CHOWN] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_OPEN_SEND] = {{A_STR, A_NONE, A_NONE, A_NONE}, 0},
    [CT_OP_RENAME] = {{A_STR, A_STR, A_NONE, A_NONE}, -1},
    [CT_OP_UNLINK] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_CGROUP_JOIN] = {{A_NONE, A_NONE, A_NONE, A_NONE}, 0},
    [CT_OP_UNSHARE] = {{A_NONE, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_CHECK_FS] = {{A_STR, A_NONE, A_NONE, A_NONE}, -1},
    [CT_OP_TMPFS_FILES] = {{A_STR_LIST, A_STR, A_STR_LIST, A_U32_LIST}, -1},
};

/* The op codes this shim runs (the numbering has gaps reserved for other areas). */
static const uint8_t ct_known[CT_OP_MAX + 1] = {
    [CT_OP_MOUNT ... CT_OP_LOOPBACK_UP] = 1,
    [CT_OP_FSMOUNT] = 1,
    [CT_OP_CHOWN] = 1,
    [CT_OP_OPEN_SEND] = 1,
    [CT_OP_RENAME] = 1,
    [CT_OP_UNLINK] = 1,
    [CT_OP_CGROUP_JOIN] = 1,
    [CT_OP_UNSHARE] = 1,
    [CT_OP_CHECK_FS] = 1,
    [CT_OP_TMPFS_FILES] = 1,
};

static int ct_check_str(const uint8_t *plan, uint32_t size, uint32_t data_start, uint32_t off)
{
    if (off < data_start || off >= size)
        return 0;
    return memchr(plan + off, 0, size - off) != NULL;
}

static int ct_check_list(const uint8_t *plan, uint32_t size, uint32_t data_start, uint32_t off, uint32_t *count)
{
    if (off < data_start || off % 4 || off > size - 4)
        return 0;
    uint32_t n;
    memcpy(&n, plan + off, 4);
    if (n > (size - off - 4) / 4)
        return 0;
    *count = n;
    return 1;
}

/* TMPFS_FILES: one content per name, each a u32 length and that many bytes inside the plan. */
static int ct_check_tmpfs_files(const uint8_t *plan, uint32_t size, uint32_t data_start, const struct ct_op *op)
{
    uint32_t names, contents;
    if (!ct_check_list(plan, size, data_start, op->s[2], &names) ||
        !ct_check_list(plan, size, data_start, op->s[3], &contents) || names != contents)
        return 0;
    for (uint32_t j = 0; j < contents; j++) {
        uint32_t off, length;
        memcpy(&off, plan + op->s[3] + 4 + 4 * j, 4);
        if (off < data_start || off % 4 || off > size - 4)
            return 0;
        memcpy(&length, plan + off, 4);
        if (length > size - off - 4)
            return 0;
    }
    return 1;
}

/* An EXEC's flags must name slots the launch filled: containers-init, and the status pipe to keep the program. */
static int ct_check_exec(const struct ct_op *op, const int32_t *fds, uint32_t nfds)
{
    uint32_t via_init = op->flags & CT_F_VIA_INIT, keep = op->flags & CT_F_KEEP;
    if ((keep && !via_init) || ((op->flags & (CT_F_INIT_STATUS | CT_F_FOREGROUND)) && !keep))
        return 0;
    if (via_init && (nfds <= CT_SLOT_INIT || fds[CT_SLOT_INIT] < 0))
        return 0;
    if (keep && (nfds <= CT_SLOT_STATUS || fds[CT_SLOT_STATUS] < 0))
        return 0;
    return keep || op->n[0] == 0;
}

/* A launcher that waits for the pivot needs a child that shares its memory and reaches the pivot without it. */
static int ct_check_wait_pivot(const struct ct_plan_header *h)
{
    if (h->flags & CT_PLAN_FORK_LIKE)
        return 0;
    const struct ct_op *ops = (const void *)(h + 1);
    for (uint32_t i = 0; i < h->op_count; i++) {
        if (ops[i].code == CT_OP_PIVOT_ROOT)
            return 1;
        if (ops[i].code == CT_OP_WAIT_FD || ops[i].code == CT_OP_FORK)
            return 0;
    }
    return 0;
}

/* Returns the op index that fails, -2 for a bad header, or -1 when the plan is valid. */
static int ct_validate(const uint8_t *plan, uint32_t size, const int32_t *fds, uint32_t nfds, uint32_t *vector_count,
                       uint32_t *exec_count)
{
    const struct ct_plan_header *h = (const void *)plan;
    if (size < sizeof(*h) || h->magic != CT_PLAN_MAGIC || h->version != CT_PLAN_VERSION || h->size != size ||
        h->header_size != sizeof(*h) || h->op_size != sizeof(struct ct_op) ||
        h->op_count > (size - sizeof(*h)) / sizeof(struct ct_op) ||
        (h->cgroup_slot >= 0 && (uint32_t)h->cgroup_slot >= nfds) ||
        ((h->flags & CT_PLAN_WAIT_PIVOT) && !ct_check_wait_pivot(h)))
        return -2;
    uint32_t data_start = (uint32_t)(sizeof(*h) + h->op_count * sizeof(struct ct_op));
    const struct ct_op *ops = (const void *)(plan + sizeof(*h));
    *vector_count = 0;
    *exec_count = 0;
    for (uint32_t i = 0; i < h->op_count; i++) {
        const struct ct_op *op = &ops[i];
        if (op->code == 0 || op->code > CT_OP_MAX || !ct_known[op->code])
            return (int)i;
        if (op->code == CT_OP_FORK && (nfds <= CT_SLOT_SYNC || fds[CT_SLOT_SYNC] < 0))
            return (int)i;
        if (op->code == CT_OP_FSMOUNT && op->n[0] != UINT64_MAX && (op->n[0] >= nfds || fds[op->n[0]] < 0))
            return (int)i;
        if (op->code == CT_OP_TMPFS_FILES && !ct_check_tmpfs_files(plan, size, data_start, op))
            return (int)i;
        if (op->code == CT_OP_EXEC) {
            if (!ct_check_exec(op, fds, nfds))
                return (int)i;
            if (op->flags & CT_F_VIA_INIT)
                *vector_count += CT_INIT_ARGS;
            (*exec_count)++;
        }
        if (op->stage && !ct_check_str(plan, size, data_start, op->stage))
            return (int)i;
        const struct ct_shape *shape = &ct_shapes[op->code];
        for (int k = 0; k < 4; k++) {
            uint32_t off = op->s[k], count;
            switch (shape->s[k]) {
            case A_NONE:
                if (off)
                    return (int)i;
                break;
            case A_STR:
                if (!ct_check_str(plan, size, data_start, off))
                    return (int)i;
                break;
            case A_OPT_STR:
                if (off && !ct_check_str(plan, size, data_start, off))
                    return (int)i;
                break;
            case A_STR_LIST:
                if (!ct_check_list(plan, size, data_start, off, &count))
                    return (int)i;
                for (uint32_t j = 0; j < count; j++) {
                    uint32_t item;
                    memcpy(&item, plan + off + 4 + 4 * j, 4);
                    if (!ct_check_str(plan, size, data_start, item))
                        return (int)i;
                }
                *vector_count += count + 1;
                break;
            case A_U32_LIST:
                if (!ct_check_list(plan, size, data_start, off, &count))
                    return (int)i;
                break;
            case A_BYTES:
                if (op->n[0] && (off < data_start || off > size || op->n[0] > size - off))
                    return (int)i;
                break;
            case A_FILTER:
                if (off < data_start || off % 4 || off > size || op->n[0] == 0 || op->n[0] > 4096 ||
                    op->n[0] * sizeof(struct sock_filter) > size - off)
                    return (int)i;
                break;
            }
        }
        if (shape->slot >= 0 && op->n[(int)shape->slot] >= nfds)
            return (int)i;
    }
    return -1;
}

/* How long a launch waits for its child's pivot at most: a child stuck before it (a mount that hangs) must not hold
 * the launching thread, which every other start needs, for longer. A setup reaches its pivot in well under 1 ms. */
#define CT_PIVOT_WAIT_NS 100000000L

/* Waits until the child pivoted (it clears the word), exec'd or exited (the kernel clears it: CLONE_CHILD_CLEARTID),
 * or CT_PIVOT_WAIT_NS passed. The word is in the launch's memory, which stays until ct_launch_free. */
static void ct_wait_pivot(struct ct_launch *l)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += CT_PIVOT_WAIT_NS;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    while (__atomic_load_n(&l->pivot_pending, __ATOMIC_ACQUIRE)) {
        /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
        if (syscall(SYS_futex, &l->pivot_pending, FUTEX_WAIT_BITSET, 1, &deadline, NULL, FUTEX_BITSET_MATCH_ANY) < 0 &&
            errno == ETIMEDOUT)
            return;
    }
}

/* ---- exported API ---- */

/*
 * Clones a child that runs the plan. fds is the slot table (plan.h). On success returns 0 and fills res; the
 * caller reads ct_report records from res->error_fd until EOF, then calls ct_launch_free(res->handle).
 * Returns -errno on failure; -EINVAL with res->failed_op set when the plan is malformed. launch_flags:
 * CT_LAUNCH_*.
 */
CT_EXPORT int ct_launch(const void *plan, uint32_t size, const int32_t *fds, uint32_t nfds, uint32_t launch_flags,
                        struct ct_launch_result *res)
{
    res->pid = -1;
    res->pidfd = -1;
    res->error_fd = -1;
    res->failed_op = -1;
    res->handle = 0;
    if (nfds > CT_MAX_SLOTS)
        return -EINVAL;
    uint32_t vector_count, exec_count;
    int bad = ct_validate(plan, size, fds, nfds, &vector_count, &exec_count);
    if (bad != -1) {
        res->failed_op = bad;
        return -EINVAL;
    }

    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t need = CT_STACK_SIZE + sizeof(struct ct_launch) + vector_count * sizeof(char *) +
                  exec_count * CT_CONTROL_SIZE + size + 16;
    size_t map_size;
    uint8_t *map = ct_map_take(need, page, &map_size);
    if (map == NULL)
        return -errno;
    struct ct_launch *l = (struct ct_launch *)(map + CT_STACK_SIZE);
    l->map_size = map_size;
    l->exec_vectors = (char **)(l + 1);
    l->exec_vector_count = vector_count;
    char *controls = (char *)(l->exec_vectors + vector_count);
    uint8_t *copy = (uint8_t *)(controls + exec_count * CT_CONTROL_SIZE);
    memcpy(copy, plan, size);
    l->plan = copy;
    l->header = (const struct ct_plan_header *)copy;
    l->ops = (const struct ct_op *)(copy + sizeof(struct ct_plan_header));
    l->nfds = nfds;
    for (uint32_t i = 0; i < nfds; i++)
        l->fds[i] = fds[i];
    l->root_fd = -1;
    l->parent_pid = getpid();

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
        int e = errno;
        ct_map_give(map, map_size);
        return -e;
    }
    l->error_fd = pipefd[1];

    /* Lay out argv/envp pointer vectors; an EXEC op finds its vector at exec_vectors[op.reserved]. One through
     * containers-init gets its arguments first (plan.h), the control one written here, where libc is allowed. */
    uint32_t next = 0;
    struct ct_op *ops = (struct ct_op *)l->ops;
    for (uint32_t i = 0; i < l->header->op_count; i++) {
        if (ops[i].code != CT_OP_EXEC)
            continue;
        ops[i].reserved = next;
        if (ops[i].flags & CT_F_VIA_INIT) {
            int status_fd = (ops[i].flags & CT_F_KEEP) ? fds[CT_SLOT_STATUS] : -1;
            snprintf(controls, CT_CONTROL_SIZE, "%u,%u,%d,%d,%llu", ops[i].flags, i, pipefd[1], status_fd,
                     (unsigned long long)ops[i].n[0]);
            l->exec_vectors[next++] = (char *)"init";
            l->exec_vectors[next++] = controls;
            l->exec_vectors[next++] = (char *)(copy + ops[i].s[0]);
            l->exec_vectors[next++] = ops[i].s[3] ? (char *)(copy + ops[i].s[3]) : (char *)"";
            controls += CT_CONTROL_SIZE;
        }
        for (int k = 1; k <= 2; k++) {
            uint32_t count;
            const uint32_t *items = ct_list(l, ops[i].s[k], &count);
            for (uint32_t j = 0; j < count; j++)
                l->exec_vectors[next++] = (char *)(copy + items[j]);
            l->exec_vectors[next++] = NULL;
        }
    }
    l->nkeep = 0;
    for (uint32_t i = 0; i < nfds; i++) {
        if (fds[i] >= 0)
            l->keep[l->nkeep++] = fds[i];
    }
    l->keep[l->nkeep++] = pipefd[1];
    for (uint32_t i = 1; i < l->nkeep; i++) {
        for (uint32_t j = i; j > 0 && l->keep[j - 1] > l->keep[j]; j--) {
            int t = l->keep[j];
            l->keep[j] = l->keep[j - 1];
            l->keep[j - 1] = t;
        }
    }

    int pidfd = -1;
    struct clone_args args = {
        .flags = CLONE_PIDFD | l->header->clone_flags,
        .pidfd = (uint64_t)(uintptr_t)&pidfd,
        .exit_signal = 0,
        .stack = (uint64_t)(uintptr_t)map,
        .stack_size = CT_STACK_SIZE,
    };
    if (!(l->header->flags & CT_PLAN_FORK_LIKE))
        args.flags |= CLONE_VM;
    if (l->header->cgroup_slot >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)l->fds[l->header->cgroup_slot];
    }
    int wait_pivot = (l->header->flags & CT_PLAN_WAIT_PIVOT) != 0;
    l->pivot_pending = wait_pivot;
    if (wait_pivot) {
        args.flags |= CLONE_CHILD_CLEARTID;
        args.child_tid = (uint64_t)(uintptr_t)&l->pivot_pending;
    }

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    long pid = ct_clone3_on_stack(&args, ct_child, l);
    if (pid == -ENOSYS && !(args.flags & (CLONE_INTO_CGROUP | CLONE_NEWTIME))) {
        /* Kernels before 5.3: clone(2) takes the exit signal in the low byte of the flags (0 here). */
        pid = clone(ct_child, map + CT_STACK_SIZE, (int)(args.flags & ~0xffULL), l, &pidfd, NULL, &l->pivot_pending);
        if (pid < 0)
            pid = -errno;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(pipefd[1]);
    if (pid > 0 && wait_pivot && (launch_flags & CT_LAUNCH_WAIT_PIVOT))
        ct_wait_pivot(l);

    if (pid < 0) {
        close(pipefd[0]);
        ct_map_give(map, map_size);
        return (int)pid;
    }
    res->pid = (int)pid;
    res->pidfd = pidfd;
    res->error_fd = pipefd[0];
    if (args.flags & CLONE_VM) {
        res->handle = (uint64_t)(uintptr_t)map;
    } else {
        ct_map_give(map, map_size);
    }
    return 0;
}

/* Frees a launch once its child has exec'd or exited (EOF on the error pipe). */
CT_EXPORT void ct_launch_free(uint64_t handle)
{
    if (handle == 0)
        return;
    uint8_t *map = (uint8_t *)(uintptr_t)handle;
    struct ct_launch *l = (struct ct_launch *)(map + CT_STACK_SIZE);
    ct_map_give(map, l->map_size);
}

/* Waits for (WNOHANG: polls) the exit of a child by pidfd; code/status are si_code and si_status. */
CT_EXPORT int ct_waitid_pidfd(int pidfd, int options, int32_t *pid, int32_t *code, int32_t *status)
{
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | __WALL | options) < 0)
        return -errno;
    *pid = info.si_pid;
    *code = info.si_code;
    *status = info.si_status;
    return 0;
}

CT_EXPORT int ct_pidfd_send_signal(int pidfd, int sig)
{
    return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

CT_EXPORT int ct_pidfd_open(int pid)
{
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}

/* The mount namespace of the process behind pidfd, as an fd (PIDFD_GET_MNT_NAMESPACE, Linux 6.11+). */
CT_EXPORT int ct_pidfd_mount_namespace(int pidfd)
{
    int fd = ioctl(pidfd, _IO(0xFF, 3), 0);
    return fd < 0 ? -errno : fd;
}

/* Receives one fd sent with SCM_RIGHTS (OPEN_PTY sends the pty master this way); -ENOENT for OPEN_SEND's message
   that the entry is gone (CT_F_MISSING_OK). */
CT_EXPORT int ct_recv_fd(int sock)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf)};
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (n == 1 && cmsg == NULL && byte == 'm')
        return -ENOENT;
    if (n == 0 || cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
        return -EBADMSG;
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}

/* epoll_event is packed on x86_64 only; these keep its layout out of the managed code. */
CT_EXPORT int ct_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, op, fd, &ev) < 0 ? -errno : 0;
}

CT_EXPORT int ct_epoll_wait(int epfd, uint64_t *data, int max, int timeout)
{
    struct epoll_event events[64];
    if (max > 64)
        max = 64;
    int n = epoll_wait(epfd, events, max, timeout);
    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++)
        data[i] = events[i].data.u64;
    return n;
}

/* containers-init (init/init.c), built before this file and embedded whole; CT_INIT_BINARY is its path. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        "ct_init_image:\n"
        ".incbin \"" CT_INIT_BINARY "\"\n"
        "ct_init_image_end:\n"
        ".previous\n");
extern const uint8_t ct_init_image[] __attribute__((visibility("hidden")));
extern const uint8_t ct_init_image_end[] __attribute__((visibility("hidden")));

#ifndef MFD_EXEC
#define MFD_EXEC 0x10U
#endif

/*
 * Loads containers-init into a memfd that nobody can change (sealed against write, grow, shrink and further
 * seals) and returns its fd (close-on-exec), or -errno. EXEC ops with CT_F_VIA_INIT exec it from slot
 * CT_SLOT_INIT. MFD_EXEC keeps it executable where vm.memfd_noexec would seal new memfds non-executable.
 */
CT_EXPORT int ct_init_binary(void)
{
    int fd = memfd_create("containers-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create("containers-init", MFD_CLOEXEC | MFD_ALLOW_SEALING); /* before Linux 6.3 */
    if (fd < 0)
        return -errno;
    const uint8_t *p = ct_init_image;
    size_t left = (size_t)(ct_init_image_end - ct_init_image);
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            return -e;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* The current disposition of sig: its handler (SIG_DFL 0, SIG_IGN 1, or an address) and its SA_* flags. */
CT_EXPORT int ct_signal_disposition(int sig, uint64_t *handler, uint64_t *flags)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) < 0)
        return -errno;
    *handler = (uint64_t)(uintptr_t)old.sa_handler;
    *flags = (uint64_t)(unsigned)old.sa_flags;
    return 0;
}

/* The plan layout as "name=value" lines, so the C# encoder can be checked against this header. */
CT_EXPORT int ct_plan_layout(char *buf, int len)
{
#define L(name, value) "%s=%lu\n", name, (unsigned long)(value)
    int n = 0;
    struct {
        const char *name;
        unsigned long value;
    } items[] = {
        {"magic", CT_PLAN_MAGIC},
        {"version", CT_PLAN_VERSION},
        {"header.size", sizeof(struct ct_plan_header)},
        {"header.magic", offsetof(struct ct_plan_header, magic)},
        {"header.version", offsetof(struct ct_plan_header, version)},
        {"header.plan_size", offsetof(struct ct_plan_header, size)},
        {"header.header_size", offsetof(struct ct_plan_header, header_size)},
        {"header.op_size", offsetof(struct ct_plan_header, op_size)},
        {"header.op_count", offsetof(struct ct_plan_header, op_count)},
        {"header.flags", offsetof(struct ct_plan_header, flags)},
        {"header.cgroup_slot", offsetof(struct ct_plan_header, cgroup_slot)},
        {"header.clone_flags", offsetof(struct ct_plan_header, clone_flags)},
        {"op.size", sizeof(struct ct_op)},
        {"op.code", offsetof(struct ct_op, code)},
        {"op.flags", offsetof(struct ct_op, flags)},
        {"op.stage", offsetof(struct ct_op, stage)},
        {"op.s", offsetof(struct ct_op, s)},
        {"op.n", offsetof(struct ct_op, n)},
        {"report.size", sizeof(struct ct_report)},
        {"result.size", sizeof(struct ct_launch_result)},
        {"result.handle", offsetof(struct ct_launch_result, handle)},
        {"flag.fork_like", CT_PLAN_FORK_LIKE},
        {"flag.no_pdeathsig", CT_PLAN_NO_PDEATHSIG},
        {"flag.wait_pivot", CT_PLAN_WAIT_PIVOT},
        {"launch.wait_pivot", CT_LAUNCH_WAIT_PIVOT},
        {"f.recursive", CT_F_RECURSIVE},
        {"f.source_in_root", CT_F_SOURCE_IN_ROOT},
        {"f.parents", CT_F_PARENTS},
        {"f.optional", CT_F_OPTIONAL},
        {"f.exist_ok", CT_F_EXIST_OK},
        {"f.foreground", CT_F_FOREGROUND},
        {"f.announce", CT_F_ANNOUNCE},
        {"f.missing_ok", CT_F_MISSING_OK},
        {"f.set_mode", CT_F_SET_MODE},
        {"f.mask", CT_F_MASK},
        {"f.file_or_missing", CT_F_FILE_OR_MISSING},
        {"report.error", CT_REPORT_ERROR},
        {"report.pid", CT_REPORT_PID},
        {"report.ready", CT_REPORT_READY},
        {"report.status", CT_REPORT_STATUS},
        {"slot.sync", CT_SLOT_SYNC},
        {"slot.init", CT_SLOT_INIT},
        {"slot.status", CT_SLOT_STATUS},
        {"slot.first_import", CT_SLOT_FIRST_IMPORT},
        {"f.via_init", CT_F_VIA_INIT},
        {"f.keep", CT_F_KEEP},
        {"f.init_status", CT_F_INIT_STATUS},
        {"op.MOUNT", CT_OP_MOUNT},
        {"op.BIND", CT_OP_BIND},
        {"op.MKDIR", CT_OP_MKDIR},
        {"op.MKNOD", CT_OP_MKNOD},
        {"op.SYMLINK", CT_OP_SYMLINK},
        {"op.PIVOT_ROOT", CT_OP_PIVOT_ROOT},
        {"op.UMOUNT_DETACH", CT_OP_UMOUNT_DETACH},
        {"op.MAKE_PRIVATE", CT_OP_MAKE_PRIVATE},
        {"op.SETHOSTNAME", CT_OP_SETHOSTNAME},
        {"op.SETRLIMIT", CT_OP_SETRLIMIT},
        {"op.SETGROUPS", CT_OP_SETGROUPS},
        {"op.SETRESGID", CT_OP_SETRESGID},
        {"op.SETRESUID", CT_OP_SETRESUID},
        {"op.UMASK", CT_OP_UMASK},
        {"op.PRCTL", CT_OP_PRCTL},
        {"op.WRITE_FILE", CT_OP_WRITE_FILE},
        {"op.TMPFS_FILES", CT_OP_TMPFS_FILES},
        {"op.DUP2", CT_OP_DUP2},
        {"op.CLOSE_RANGE", CT_OP_CLOSE_RANGE},
        {"op.SETSID", CT_OP_SETSID},
        {"op.SETCTTY", CT_OP_SETCTTY},
        {"op.OPEN_PTY", CT_OP_OPEN_PTY},
        {"op.WAIT_FD", CT_OP_WAIT_FD},
        {"op.CHDIR", CT_OP_CHDIR},
        {"op.SETNS", CT_OP_SETNS},
        {"op.EXEC", CT_OP_EXEC},
        {"op.ROOT", CT_OP_ROOT},
        {"op.FORK", CT_OP_FORK},
        {"op.MOUNT_SETATTR", CT_OP_MOUNT_SETATTR},
        {"op.SECCOMP", CT_OP_SECCOMP},
        {"op.CAPSET", CT_OP_CAPSET},
        {"op.LOOPBACK_UP", CT_OP_LOOPBACK_UP},
        {"op.FSMOUNT", CT_OP_FSMOUNT},
        {"op.CHOWN", CT_OP_CHOWN},
        {"op.OPEN_SEND", CT_OP_OPEN_SEND},
        {"op.RENAME", CT_OP_RENAME},
        {"op.UNLINK", CT_OP_UNLINK},
        {"op.CGROUP_JOIN", CT_OP_CGROUP_JOIN},
        {"op.UNSHARE", CT_OP_UNSHARE},
        {"op.CHECK_FS", CT_OP_CHECK_FS},
    };
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        int w = snprintf(buf + n, n < len ? (size_t)(len - n) : 0, L(items[i].name, items[i].value));
        if (w < 0)
            return -EINVAL;
        n += w;
    }
#undef L
    return n < len ? n : -ENOSPC;
}
