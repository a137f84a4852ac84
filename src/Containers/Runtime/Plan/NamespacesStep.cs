using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// User and namespaces: which namespaces the child is cloned into and which it joins, the user namespace's maps
/// (written by the parent while the child waits), then what a new network or uts namespace needs (loopback up,
/// the hostname). Ends with umask 0, so what later steps create gets exactly the modes they name.
/// </summary>
internal static class NamespacesStep
{
    public static void Apply(PlanContext context)
    {
        var plan = context.Plan;
        var flags = CloneFlags.None;
        var joins = new List<(LinuxNamespace Ns, CloneFlags Flag)>();
        foreach (var ns in context.Linux.Namespaces)
        {
            if (ns.Path is null)
            {
                flags |= ToCloneFlag(ns.Type);
            }
            else
            {
                joins.Add((ns, ToCloneFlag(ns.Type)));
            }
        }

        if (!context.Host.IsPrivileged && context.Linux.FindNamespace(NamespaceType.User) is null)
        {
            // Unprivileged callers can only create the other namespaces from inside a user namespace of their own.
            flags |= CloneFlags.NewUser;
        }

        var joinsUser = joins.Exists(j => j.Ns.Type == NamespaceType.User);
        context.NewNamespaces = flags;
        context.InUserNamespace = flags.HasFlag(CloneFlags.NewUser) || joinsUser;
        context.Mapping = flags.HasFlag(CloneFlags.NewUser) ? Mapping(context) : null;
        context.SetGroupsAllowed = context.Mapping?.SetGroupsAllowed ?? true;

        // A network namespace made ahead by the parent can only be joined by a child in the parent's user namespace
        // (setns needs CAP_SYS_ADMIN over the namespace's owner); it comes with loopback up.
        var pooledNetwork = context.Settings.PooledNetwork && flags.HasFlag(CloneFlags.NewNet) && !context.InUserNamespace;
        context.UsesPooledNetwork = pooledNetwork;
        var cloned = pooledNetwork ? flags & ~CloneFlags.NewNet : flags;
        plan.WithCloneFlags(context.CgroupNamespaceMade ? cloned & ~CloneFlags.NewCgroup : cloned);
        if (pooledNetwork)
        {
            context.Fds.Add(new FdSource(FdKind.PooledNetwork));
            plan.SetNs(plan.ImportFd(), CloneFlags.NewNet, "join a network namespace made ahead");
        }

        if (joinsUser)
        {
            // setns into a user namespace is refused to a process that shares its memory (CLONE_VM).
            plan.ForkLike();
        }

        if (context.Mapping is not null)
        {
            plan.WaitForParent("wait for the uid and gid maps");

            // Until it changes ids the child keeps its host ids, which the new namespace may not map (root's 0 when
            // root maps a range elsewhere): files it created would get no owner (EOVERFLOW). Become its root first.
            plan.SetResGid(0, "setresgid to the user namespace's root");
            plan.SetResUid(0, "setresuid to the user namespace's root");
        }

        // The user namespace first: it decides what the other joins may do.
        foreach (var (ns, flag) in joins.OrderBy(j => j.Ns.Type == NamespaceType.User ? 0 : 1))
        {
            context.Fds.Add(new FdSource(FdKind.Namespace, ns.Path));
            plan.SetNs(plan.ImportFd(), flag, $"join {ns.Type.ToOciName()} namespace {ns.Path}");
        }

        if (joins.Exists(j => j.Ns.Type == NamespaceType.Pid))
        {
            // Joining a pid namespace applies to children only.
            plan.Fork();
        }

        if (flags.HasFlag(CloneFlags.NewNet) && !pooledNetwork)
        {
            plan.LoopbackUp();
        }

        if (context.Spec.Hostname is { } hostname && flags.HasFlag(CloneFlags.NewUts))
        {
            plan.SetHostname(hostname);
        }

        plan.Umask(0);
    }

    /// <summary>
    /// The maps of the container's new user namespace: the spec's own, identity for root, the caller and its
    /// subordinate ids otherwise. An exec into the container joins that namespace and needs to know the same.
    /// </summary>
    public static UserNamespaceMapping Mapping(PlanContext context)
    {
        var linux = context.Linux;
        if (linux.UidMappings.Length > 0)
        {
            return UserNamespaceMapping.FromSpec(linux.UidMappings, linux.GidMappings.Length > 0 ? linux.GidMappings : linux.UidMappings, context.Host);
        }

        return context.Host.IsPrivileged ? UserNamespaceMapping.Identity : UserNamespaceMapping.Rootless(context.Host);
    }

    public static CloneFlags ToCloneFlag(NamespaceType type) => type switch
    {
        NamespaceType.Pid => CloneFlags.NewPid,
        NamespaceType.Network => CloneFlags.NewNet,
        NamespaceType.Mount => CloneFlags.NewNs,
        NamespaceType.Ipc => CloneFlags.NewIpc,
        NamespaceType.Uts => CloneFlags.NewUts,
        NamespaceType.User => CloneFlags.NewUser,
        NamespaceType.Cgroup => CloneFlags.NewCgroup,
        _ => CloneFlags.NewTime,
    };
}
