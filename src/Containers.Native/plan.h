/*
 * plan.h: the wire format between the C# plan encoder (src/Containers/Linux/Plan*.cs) and the shim.
 * This header is the single source of truth; the C# side mirrors it and a test compares both layouts through
 * ct_plan_layout().
 *
 * A plan is one contiguous, immutable buffer:
 *
 *   [ct_plan_header][ct_op x op_count][data: NUL-terminated strings, u32 lists]
 *
 * Strings and lists are addressed by byte offset from the start of the plan; offset 0 means "absent". The shim
 * checks every offset before it clones: a string must end with NUL inside the plan, a list (u32 count, then count
 * u32 items) must fit inside it, every fd slot must exist. A plan that fails a check never starts a process.
 *
 * File descriptors are not stored in the plan (it is reusable across launches): ops name "slots", indexes into
 * the fd table given to ct_launch. Slot 0 is the launcher's sync pipe (read end) or -1 when the plan has no
 * WAIT_FD op; the caller's fds follow from slot 1.
 *
 * Parent/child protocol (one launch):
 *
 *   | step | parent (ct_launch, then C#)                      | child (interprets the plan)                       |
 *   |------|--------------------------------------------------|---------------------------------------------------|
 *   | 1    | validate plan; pipe2(error, CLOEXEC|NONBLOCK)    |                                                   |
 *   | 2    | block all signals; clone3(PIDFD, ns flags,       | starts with all signals blocked; closes every     |
 *   |      | exit_signal 0); restore mask; close error w-end  | fd > 2 that is neither a slot nor the error pipe; |
 *   |      |                                                  | PR_SET_PDEATHSIG(SIGKILL); fork-like only:        |
 *   |      |                                                  | PR_SET_DUMPABLE(0) (with CLONE_NEWUSER after the  |
 *   |      |                                                  | first WAIT_FD, so an unprivileged parent can      |
 *   |      |                                                  | write uid_map; a CLONE_VM child shares the        |
 *   |      |                                                  | parent's mm and must not change its dumpability)  |
 *   | 3    | may write uid_map/gid_map, join cgroups, ...      | WAIT_FD: reads 1 byte from slot 0 (EOF: abort)    |
 *   |      |                                                  | (CT_F_ANNOUNCE: first writes {READY, op, 0})      |
 *   | 4    | writes 1 byte to the sync pipe ("continue")      | runs the next ops                                 |
 *   | 5    | reads ct_report records from the error pipe       | on failure: writes {ERROR, op, errno}, exits 127  |
 *   |      |                                                  | FORK: writes {PID, op, pid of the new child}       |
 *   |      |                                                  | INIT: forks; the original becomes the init         |
 *   | 6    | EOF on the error pipe: exec succeeded or child    | EXEC: handlers to SIG_DFL, mask cleared, execve;  |
 *   |      | died; then frees the launch (stack, plan copy)    | O_CLOEXEC closes the error pipe                   |
 *   | 7    | waits on the pidfd, waitid(P_PIDFD, __WALL)      |                                                   |
 *
 * Each sync pipe byte releases exactly one WAIT_FD op, so one pipe serves the user-namespace sync and the
 * "created" state start fd. Reports are fixed-size (struct ct_report); a pipe write of that size is atomic.
 */
#ifndef CONTAINERS_PLAN_H
#define CONTAINERS_PLAN_H

#include <stdint.h>

#define CT_PLAN_MAGIC 0x4e4c5043u /* "CPLN" little-endian */
#define CT_PLAN_VERSION 1u

/* ct_plan_header.flags */
#define CT_PLAN_FORK_LIKE 0x1u   /* clone without CLONE_VM (copy the address space) */
#define CT_PLAN_NO_PDEATHSIG 0x2u /* do not tie the child's life to the cloning thread */

struct ct_plan_header {
    uint32_t magic;       /* CT_PLAN_MAGIC */
    uint32_t version;     /* CT_PLAN_VERSION */
    uint32_t size;        /* bytes in the whole plan */
    uint32_t header_size; /* sizeof(struct ct_plan_header) */
    uint32_t op_size;     /* sizeof(struct ct_op) */
    uint32_t op_count;    /* ops follow the header */
    uint32_t flags;       /* CT_PLAN_* */
    int32_t cgroup_slot;  /* slot of a cgroup directory fd for CLONE_INTO_CGROUP, or -1 */
    uint64_t clone_flags; /* CLONE_NEW* flags for clone3 */
};

/*
 * One operation. s[] are string or list offsets, n[] numbers; their meaning per op code is listed below.
 * Paths marked "in root" are resolved beneath the current root (set by ROOT, replaced by PIVOT_ROOT) with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) when a root is set, as given otherwise.
 */
struct ct_op {
    uint32_t code;  /* CT_OP_* */
    uint32_t flags; /* CT_F_* */
    uint32_t stage; /* string: what a failure is reported as, e.g. "mount /proc" */
    uint32_t s[4];
    uint32_t reserved;
    uint64_t n[4];
};

/* op codes                       s[0]          s[1]          s[2]          s[3]          n[0]..n[3]            */
#define CT_OP_MOUNT 1          /* source        target(root)  fstype        data          mount flags           */
#define CT_OP_BIND 2           /* source        target(root)                              MOUNT_ATTR_* to set   */
#define CT_OP_MKDIR 3          /* path(root)                                              mode                  */
#define CT_OP_MKNOD 4          /* path(root)                                              mode, major, minor    */
#define CT_OP_SYMLINK 5        /* link target   path(root)                                                      */
#define CT_OP_PIVOT_ROOT 6     /* (the current root becomes /, the old root is detached)                        */
#define CT_OP_UMOUNT_DETACH 7  /* path(root)                                                                    */
#define CT_OP_MAKE_PRIVATE 8   /* path                                                    propagation (MS_*)    */
#define CT_OP_SETHOSTNAME 9    /* name                                                                          */
#define CT_OP_SETRLIMIT 10     /*                                                         resource, soft, hard  */
#define CT_OP_SETGROUPS 11     /* list of gids                                                                  */
#define CT_OP_SETRESGID 12     /*                                                         rgid, egid, sgid      */
#define CT_OP_SETRESUID 13     /*                                                         ruid, euid, suid      */
#define CT_OP_UMASK 14         /*                                                         mask                  */
#define CT_OP_PRCTL 15         /*                                                         option, arg2..arg4    */
#define CT_OP_WRITE_FILE 16    /* path(root)    content                                   length, open flags, mode */
#define CT_OP_DUP2 17          /*                                                         slot, target fd       */
#define CT_OP_CLOSE_RANGE 18   /* list of fds to keep (ascending); all others >= 3 become close-on-exec          */
#define CT_OP_SETSID 19        /*                                                                               */
#define CT_OP_SETCTTY 20       /*                                                         fd                    */
#define CT_OP_OPEN_PTY 21      /* ptmx path(root)                                         socket slot           */
#define CT_OP_WAIT_FD 22       /*                                                         slot                  */
#define CT_OP_CHDIR 23         /* path                                                                          */
#define CT_OP_SETNS 24         /*                                                         slot, nstype          */
#define CT_OP_EXEC 25          /* file          argv list     envp list     PATH                                */
#define CT_OP_ROOT 26          /* path                                                                          */
#define CT_OP_FORK 27          /* (clone with CLONE_PARENT; the new child goes on, this one reports it, exits)  */
#define CT_OP_MOUNT_SETATTR 28 /* path(root)                                              attr set, attr clear  */
#define CT_OP_SECCOMP 29       /* filter (struct sock_filter[n[0]])                        count, flags          */
#define CT_OP_CAPSET 30        /*                                                         effective, permitted, inheritable */
#define CT_OP_LOOPBACK_UP 31   /* (sets IFF_UP on "lo" of the current network namespace)                        */
#define CT_OP_INIT 32          /* (fork; see "Init" below)                                 signals to forward     */
#define CT_OP_MAX 32

/* ct_op.flags */
#define CT_F_RECURSIVE 0x1u      /* BIND, MOUNT_SETATTR: the whole subtree */
#define CT_F_SOURCE_IN_ROOT 0x2u /* BIND: the source is resolved beneath the root too */
#define CT_F_PARENTS 0x4u        /* MKDIR: create missing parents (mkdir -p) */
#define CT_F_OPTIONAL 0x8u       /* the op's failure is ignored */
#define CT_F_EXIST_OK 0x10u      /* MKDIR, MKNOD, SYMLINK: an existing entry is fine */
#define CT_F_FOREGROUND 0x20u    /* INIT: the program gets its own process group, the terminal's foreground */
#define CT_F_ANNOUNCE 0x40u      /* WAIT_FD: report READY before blocking (setup up to here succeeded) */
#define CT_F_MISSING_OK 0x80u    /* MOUNT, BIND: a path that does not exist (ENOENT) needs nothing; other errors fail */

/*
 * Init (CT_OP_INIT, fork-like plans only): the process running the plan forks. The new child goes on with the
 * remaining ops and becomes the user's program; the original stays behind as the container's init (pid 1 in a new
 * pid namespace, a child subreaper otherwise). The init closes every fd (so EOF on the error pipe still means the
 * program exec'd), keeps every signal blocked and takes them with rt_sigtimedwait: a signal whose bit (sig - 1)
 * is set in n[0] goes on to the program's process, SIGCHLD reaps every exited child (wait4(-1)). Once the program
 * has been reaped the init exits with its exit code, or 128 + the signal that killed it (as tini does). The
 * program gets PR_SET_PDEATHSIG(SIGKILL), so it does not outlive a killed init without a pid namespace either.
 */

/* Child -> parent records on the error pipe. */
#define CT_REPORT_ERROR 1 /* op failed: value = errno */
#define CT_REPORT_PID 2   /* FORK: value = pid (in the caller's pid namespace) of the process that goes on */
#define CT_REPORT_READY 3 /* WAIT_FD with CT_F_ANNOUNCE reached: every op before it succeeded; value = 0 */

struct ct_report {
    int32_t kind;
    int32_t op; /* op index, or -1 for the child's own start (closing inherited fds) */
    int32_t value;
    int32_t reserved;
};

/* Result of ct_launch. */
struct ct_launch_result {
    int32_t pid;
    int32_t pidfd;
    int32_t error_fd;  /* read end of the error pipe */
    int32_t failed_op; /* op index of a validation failure, or -1 */
    uint64_t handle;   /* pass to ct_launch_free after EOF on error_fd */
};

#endif
