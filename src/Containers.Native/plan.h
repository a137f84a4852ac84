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
 * the fd table given to ct_launch. Three slots are fixed, each -1 when the plan does not use it:
 *
 *   slot 0  CT_SLOT_SYNC    the launcher's sync pipe (read end), read by WAIT_FD
 *   slot 1  CT_SLOT_INIT    the containers-init binary (a sealed memfd, ct_init_binary), exec'd by EXEC with
 *                           CT_F_VIA_INIT
 *   slot 2  CT_SLOT_STATUS  the status pipe (write end), kept by containers-init with CT_F_KEEP
 *
 * The caller's fds follow from slot 3 (CT_SLOT_FIRST_IMPORT).
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
 *   |      | PID: opens a pidfd for the new child, writes 1    | FORK: writes {PID, op, pid of the new child}, the  |
 *   |      | byte to the sync pipe                            | new child waits for that byte, then goes on        |
 *   | 6    |                                                  | EXEC: handlers to SIG_DFL, then either execve of  |
 *   |      |                                                  | the program (mask cleared; O_CLOEXEC closes the   |
 *   |      |                                                  | error pipe) or, with CT_F_VIA_INIT, execveat of   |
 *   |      |                                                  | containers-init (mask kept, error pipe kept open; |
 *   |      |                                                  | see "containers-init" below), which execs it      |
 *   | 7    | EOF on the error pipe: the program exec'd or      |                                                   |
 *   |      | everything died; then frees the launch            |                                                   |
 *   | 8    | without a keeper: waits on the pidfd,             | with CT_F_KEEP: containers-init writes {STATUS,   |
 *   |      | waitid(P_PIDFD, __WALL); with one: the pidfd,     | -1, wait status} to the status pipe, then exits   |
 *   |      | then the STATUS record (a reap-all cannot take it)|                                                   |
 *
 * Each sync pipe byte releases exactly one WAIT_FD or FORK op, so one pipe serves the user-namespace sync, the
 * pidfd of a FORK's new child and the "created" state start fd. Reports are fixed-size (struct ct_report); a pipe write of that size is atomic.
 */
#ifndef CONTAINERS_PLAN_H
#define CONTAINERS_PLAN_H

#include <stdint.h>

#define CT_PLAN_MAGIC 0x4e4c5043u /* "CPLN" little-endian */
#define CT_PLAN_VERSION 2u

/* fixed slots (see above) */
#define CT_SLOT_SYNC 0
#define CT_SLOT_INIT 1
#define CT_SLOT_STATUS 2
#define CT_SLOT_FIRST_IMPORT 3

/* ct_plan_header.flags */
#define CT_PLAN_FORK_LIKE 0x1u   /* clone without CLONE_VM (copy the address space) */
#define CT_PLAN_NO_PDEATHSIG 0x2u /* do not tie the child's life to the cloning thread */
/* The child announces its first PIVOT_ROOT op's end, so that ct_launch can return then instead of at once (its
 * CT_LAUNCH_WAIT_PIVOT): while the launcher's thread and its caller sleep, their CPU stays free, and the grace
 * period the old root's detach waits for ends sooner. CLONE_VM plans only, and no op before the pivot may wait
 * for the parent (WAIT_FD, FORK). */
#define CT_PLAN_WAIT_PIVOT 0x4u

/* ct_launch's launch_flags */
#define CT_LAUNCH_WAIT_PIVOT 0x1u /* return once a CT_PLAN_WAIT_PIVOT plan's child pivoted, exec'd or exited */

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
#define CT_OP_CHDIR 23         /* path(root) (never through a magic link such as /proc/self/fd/N: fchdir to it) */
#define CT_OP_SETNS 24         /*                                                         slot, nstype          */
#define CT_OP_EXEC 25          /* file          argv list     envp list     PATH          signals to forward (KEEP) */
#define CT_OP_ROOT 26          /* path                                                                          */
#define CT_OP_FORK 27          /* (clone with CLONE_PARENT; this one reports the new child and exits; the new  */
                               /*  child takes a byte from the sync pipe, sent once the parent has its pidfd,   */
                               /*  and goes on)                                                                 */
#define CT_OP_MOUNT_SETATTR 28 /* path(root)                                              attr set, attr clear  */
#define CT_OP_SECCOMP 29       /* filter (struct sock_filter[n[0]])                        count, flags, socket  */
                               /* slot: with SECCOMP_FILTER_FLAG_NEW_LISTENER the listener fd is sent over it   */
                               /* (SCM_RIGHTS) and closed; the parent answers the notifications                 */
#define CT_OP_CAPSET 30        /* ambient list  drop list                                 effective, permitted, inheritable, probe */
                               /* (drops each capability of the drop list from the bounding set, then capset, then */
                               /*  raises each ambient capability; run it after SETRESUID, with PR_SET_KEEPCAPS    */
                               /*  set before, so a non-root user keeps what it is given. The list is what the     */
                               /*  child's bounding set holds beyond the one wanted, known to the plan, so nothing */
                               /*  is read per capability. probe (~0: none): a capability the child has when it   */
                               /*  must drop; its absence means it was cloned from a launch thread that dropped   */
                               /*  the list already, and the drops are skipped)                                   */
#define CT_OP_LOOPBACK_UP 31   /* (sets IFF_UP on "lo" of the current network namespace)                        */
#define CT_OP_FSMOUNT 40       /* fstype        target(root)  list of params              n[0]: slot of a directory  */
                               /*  or ~0, n[1]: MOUNT_ATTR_* of the new mount. fsopen(fstype), then one fsconfig */
                               /*  per param ("key=value": FSCONFIG_SET_STRING, "key": FSCONFIG_SET_FLAG, in     */
                               /*  order, so a key may repeat: overlay's "lowerdir+"), CMD_CREATE, fsmount,       */
                               /*  move_mount onto the target. A value that does not start with '/' names a path  */
                               /*  below the directory in slot n[0], by that directory's path in the child's     */
                               /*  mount namespace (read from /proc/self/fd/N: overlay refuses layers reached    */
                               /*  through a mount of another namespace).                                        */
#define CT_OP_CHOWN 41         /* path(root)                                              uid, gid              */
                               /* (fchownat of the last component without following it: a file the plan made)   */
#define CT_OP_OPEN_SEND 42     /* path(root)                                              n[0]: socket slot     */
                               /* (opened O_PATH without following its last component; a regular file or a      */
                               /*  directory is reopened O_RDONLY through /proc/self/fd/N, anything else is sent   */
                               /*  as the O_PATH fd; the fd goes over the socket with SCM_RIGHTS)                */
#define CT_OP_RENAME 43        /* from(root)    to(root)                                  n[0]: renameat2 flags */
                               /* (RENAME_NOREPLACE 1, RENAME_EXCHANGE 2: neither path's last component is      */
                               /*  followed; each parent is resolved beneath the root)                            */
#define CT_OP_UNLINK 44        /* path(root)                                              n[0]: unlinkat flags  */
                               /* (AT_REMOVEDIR 0x200 for an empty directory; the last component not followed)   */
#define CT_OP_CGROUP_JOIN 45   /*                                                         n[0]: slot of a v1    */
                               /*  hierarchy's "tasks" file, opened by the launcher: writes "0", which moves the    */
                               /*  calling thread (this single-threaded child) into that cgroup. A thread moving    */
                               /*  itself skips the global threadgroup lock that a write of another process's pid   */
                               /*  takes, and with it an RCU grace period (5-20 ms on an idle host).                */
#define CT_OP_UNSHARE 46       /*                                                         n[0]: CLONE_NEW* flags */
                               /*  unshare(2): a namespace made after an earlier op (a cgroup namespace after the     */
                               /*  child joined its v1 cgroups, so that its root is the container's cgroup).          */
#define CT_OP_CHECK_FS 50      /* path(root)                                              statfs f_type         */
                               /* (the path must be reached without any symlink and be on that filesystem type:     */
                               /*  ELOOP for a symlink, EXDEV for another filesystem)                               */
#define CT_OP_TMPFS_FILES 51    /* params list    target(root)  list of names list of contents n[0]: file mode, n[1]: */
                               /*  uid or ~0, n[2]: gid, n[3]: MOUNT_ATTR_* of the mount once filled. A tmpfs     */
                               /*  (fsopen, one fsconfig per "key=value" param, fsmount) filled through its mount */
                               /*  fd while it is attached nowhere: each name a new file (O_EXCL) holding its     */
                               /*  content (a list item is the offset of a u32 length followed by the bytes),     */
                               /*  owned by uid:gid, then the attributes set and the mount moved onto the target. */
                               /*  No path is resolved between making the files and writing them, so no swap of   */
                               /*  the target for a link (to /proc/sys/kernel, to a shared volume) can take a     */
                               /*  write elsewhere: the class of CVE-2025-52881.                                  */
#define CT_OP_MAX 51

/* ct_op.flags */
#define CT_F_RECURSIVE 0x1u      /* BIND, MOUNT_SETATTR: the whole subtree */
#define CT_F_SOURCE_IN_ROOT 0x2u /* BIND: the source is resolved beneath the root too */
#define CT_F_PARENTS 0x4u        /* MKDIR: create missing parents (mkdir -p) */
#define CT_F_OPTIONAL 0x8u       /* the op's failure is ignored */
#define CT_F_EXIST_OK 0x10u      /* MKDIR, MKNOD, SYMLINK: an existing entry is fine */
#define CT_F_FOREGROUND 0x20u    /* EXEC with KEEP: the program gets its own process group, the terminal's foreground */
#define CT_F_ANNOUNCE 0x40u      /* WAIT_FD: report READY before blocking (setup up to here succeeded) */
#define CT_F_VIA_INIT 0x80u      /* EXEC: exec containers-init (slot CT_SLOT_INIT), which execs the program */
#define CT_F_KEEP 0x100u         /* EXEC with VIA_INIT: containers-init stays as the program's keeper */
#define CT_F_INIT_STATUS 0x200u  /* EXEC with KEEP: report and exit as an init does (128 + signal) */
#define CT_F_MISSING_OK 0x400u   /* MOUNT, BIND: a path that does not exist (ENOENT) needs nothing; other errors fail; */
                                 /* OPEN_SEND: a missing path (ENOENT, or ENOTDIR on the way) sends the byte 'm'     */
                                 /* without an fd instead                                                            */
#define CT_F_SET_MODE 0x800u     /* CHOWN: then set the mode n[2] (not on a link), which chown cleared the set-id bits of; */
                                 /* the entry is opened once (O_PATH, its last component not followed) for both      */
#define CT_F_FILE_OR_MISSING 0x1000u /* WRITE_FILE: only where the path holds a regular file or nothing, its   */
                                    /* parent a directory; anything else there (a link, a directory, a fifo) */
                                    /* or on the way to it is left as it is and the op succeeds              */
#define CT_F_MASK 0x2000u        /* BIND: mask the target as it is in the root: a directory gets a read-only empty   */
                                 /* tmpfs, anything else the source, which must be the character device 1:3 itself  */
                                 /* (/dev/null, never through a symlink: ENODEV otherwise)                           */

/*
 * containers-init (src/Containers.Native/init/init.c): a static binary without libc that the shim embeds and
 * ct_init_binary() loads into a sealed memfd. An EXEC op with CT_F_VIA_INIT resets signal handlers, clears
 * close-on-exec on the error pipe (and the status pipe), keeps every signal blocked and runs
 *
 *   execveat(slot CT_SLOT_INIT, "", argv, the program's envp, AT_EMPTY_PATH)
 *   argv = { "init", control, file, PATH (empty: the default), the program's argv... } (else: exit 127)
 *   control = "<the EXEC op's CT_F_* flags>,<op index>,<error pipe fd>,<status pipe fd or -1>,<signal mask>" (decimal)
 *
 * so that no process that goes on to exec the user's program has the host's binary as /proc/self/exe (the
 * CVE-2019-5736 class: a program that re-execs /proc/self/exe finds a sealed memfd, not a writable host file).
 *
 * Without CT_F_KEEP it makes the error pipe close-on-exec again, clears the signal mask and execs the program in
 * place (PATH search as execvp); on failure it writes {ERROR, op index, errno} and exits 127.
 *
 * With CT_F_KEEP it stays as the program's keeper: it becomes a child subreaper, forks, and the child (the
 * program: PR_SET_PDEATHSIG(SIGKILL), with CT_F_FOREGROUND its own process group made the foreground of the
 * terminal on fd 0) execs as above. The keeper closes every fd but the status pipe (so EOF on the error pipe
 * still means the program exec'd), names itself "init", keeps every signal blocked and takes them with
 * rt_sigtimedwait: a signal whose bit (sig - 1) is set in the mask goes on to the program, SIGCHLD reaps every
 * exited child (wait4(-1, __WALL)). Once the program has been reaped it writes {STATUS, -1, wait status} to the
 * status pipe and exits with the program's exit code, or 128 + the signal that killed it. With CT_F_INIT_STATUS
 * the reported wait status is that exit, as an init such as tini reports it; without, it is the program's own.
 */

/* Child -> parent records on the error pipe. */
#define CT_REPORT_ERROR 1 /* op failed: value = errno */
#define CT_REPORT_PID 2   /* FORK: value = pid (in the caller's pid namespace) of the process that goes on */
#define CT_REPORT_READY 3 /* WAIT_FD with CT_F_ANNOUNCE reached: every op before it succeeded; value = 0 */
#define CT_REPORT_STATUS 4 /* status pipe, from containers-init: value = the program's wait status, op = -1 */

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
