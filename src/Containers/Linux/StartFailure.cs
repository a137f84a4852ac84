namespace Containers.Linux;

/// <summary>Turns a failed stage and errno into a <see cref="ContainerStartException"/> with a remedy where one is known.</summary>
internal static class StartFailure
{
    public static ContainerStartException Create(Plan plan, PlanOpCode? code, string stage, int errno)
    {
        var name = Errno.Name(errno);
        var message = $"container start failed at '{stage}': {name} ({Errno.Describe(errno)})";
        var remedy = Remedy(plan, code, errno);
        return new ContainerStartException(stage, errno, name, remedy is null ? message : $"{message}: {remedy}");
    }

    private static string? Remedy(Plan plan, PlanOpCode? code, int errno)
    {
        var rootless = LibC.geteuid() != 0;
        var userNs = plan.CloneFlags.HasFlag(CloneFlags.NewUser);
        return (code, errno) switch
        {
            (null, Errno.EPERM or Errno.ENOSPC or Errno.EINVAL or Errno.EACCES) when userNs =>
                "user namespaces are disabled or exhausted on this host: check the sysctls user.max_user_namespaces (> 0), " +
                "kernel.unprivileged_userns_clone (= 1, Debian/Ubuntu) and kernel.apparmor_restrict_unprivileged_userns (= 0, Ubuntu)",
            (null, Errno.EPERM) when rootless =>
                "creating namespaces needs root or a new user namespace: run as root, or create the container rootless (with a user namespace)",
            (null, Errno.ENOSPC) =>
                "a namespace limit is reached: raise the matching /proc/sys/user/max_*_namespaces",
            (PlanOpCode.Exec, Errno.ENOENT) =>
                $"'{plan.Program}' was not found in the container's root filesystem (a program without '/' is searched in PATH inside the container)",
            (PlanOpCode.Exec, Errno.EACCES) =>
                $"'{plan.Program}' is not executable, or its filesystem is mounted noexec",
            (PlanOpCode.Mount or PlanOpCode.Bind, Errno.EPERM) when userNs =>
                "the kernel refuses this mount in a user namespace (only some filesystems can be mounted there, and /proc and /sys only while a fully visible one is in the mount namespace)",
            (PlanOpCode.Mount or PlanOpCode.Bind or PlanOpCode.Root or PlanOpCode.MakeDirectory, Errno.ENOENT) =>
                "a source or target path does not exist: create it first or fix the path",
            (PlanOpCode.PivotRoot, Errno.EINVAL) =>
                "the new root must be a mount point and / must not be shared: bind the rootfs onto itself and make / private first",
            (PlanOpCode.SetHostname, Errno.EPERM) =>
                "setting a hostname needs a new UTS namespace",
            (PlanOpCode.CheckFs, Errno.ELOOP) =>
                "the root filesystem has a symlink on the way to this kernel filesystem's mount point; masks there would protect nothing: make it a plain directory in the image",
            (PlanOpCode.CheckFs, Errno.EXDEV) =>
                "another filesystem is mounted over this kernel filesystem (a fake /proc or /sys); masks there would protect nothing: remove the mount that hides it",
            (PlanOpCode.Bind, Errno.ENODEV) =>
                "a mask needs the host's /dev/null to be the null device itself (character device 1:3), not a link or another file",
            (PlanOpCode.CapSet, Errno.EPERM) =>
                "the capability sets are not consistent: effective and inheritable must be within permitted, ambient within permitted and inheritable",
            (PlanOpCode.SetRlimit, Errno.EPERM) =>
                "raising a hard limit above this process's own needs CAP_SYS_RESOURCE, which this process lacks: ask for a hard limit no higher than the host's (ulimit -H), or run with CAP_SYS_RESOURCE",
            (PlanOpCode.MakeNode, Errno.EPERM) =>
                "making a device node needs CAP_MKNOD in the host's user namespace: run as root, without a user namespace",
            (PlanOpCode.WaitFd, Errno.ECANCELED) =>
                "the launcher abandoned the start before releasing the process",
            _ => null,
        };
    }
}
