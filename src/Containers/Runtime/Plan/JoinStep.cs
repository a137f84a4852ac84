using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// The namespaces step of an exec: join every namespace the running container has of its own (through its
/// pidfd, all at once), and look the program up in the container's own files.
/// </summary>
internal static class JoinStep
{
    public static void Apply(PlanContext context)
    {
        var plan = context.Plan;
        var namespaces = CloneFlags.None;
        foreach (var ns in context.Linux.Namespaces)
        {
            namespaces |= NamespacesStep.ToCloneFlag(ns.Type);
        }

        if (!context.Host.IsPrivileged && context.Linux.FindNamespace(NamespaceType.User) is null)
        {
            // The container was created in a user namespace of its own (NamespacesStep does the same).
            namespaces |= CloneFlags.NewUser;
        }

        context.InUserNamespace = namespaces.HasFlag(CloneFlags.NewUser);
        context.SetGroupsAllowed = !context.InUserNamespace || NamespacesStep.Mapping(context).SetGroupsAllowed;
        context.Files = context.Settings.ContainerPid is { } pid && ContainerFiles.OfProcess(pid) is var files
            && context.Host.Inspect(files.Root + "/") is { Kind: HostFileKind.Directory }
            ? files
            : null;

        context.Fds.Add(new FdSource(FdKind.ContainerPidFd));

        // Fork-like always: joining a user namespace needs it, and a CLONE_VM child shares this process's memory and
        // dumpability, which the FORK below would copy into the container's pid namespace; a process there could
        // then read this host process through /proc/PID/exe, environ or mem before the exec.
        plan.ForkLike();

        plan.SetNs(plan.ImportFd(), namespaces, "join the container's namespaces");
        if (namespaces.HasFlag(CloneFlags.NewPid))
        {
            plan.Fork();
        }
    }
}
