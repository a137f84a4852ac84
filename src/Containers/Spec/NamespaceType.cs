using System.Text.Json.Serialization;

namespace Containers.Spec;

/// <summary>
/// A Linux namespace kind, named as in the OCI runtime spec (<c>linux.namespaces[].type</c>). In JSON each value is
/// its lowercase OCI name: <c>pid</c>, <c>network</c>, <c>mount</c>, <c>ipc</c>, <c>uts</c>, <c>user</c>,
/// <c>cgroup</c>, <c>time</c>.
/// </summary>
[JsonConverter(typeof(NamespaceTypeJsonConverter))]
public enum NamespaceType
{
    /// <summary><c>pid</c>: process ids (<c>CLONE_NEWPID</c>); the container's first process is pid 1.</summary>
    Pid,

    /// <summary><c>network</c>: interfaces, routes and ports (<c>CLONE_NEWNET</c>); a new one has only loopback.</summary>
    Network,

    /// <summary><c>mount</c>: the mount table (<c>CLONE_NEWNS</c>); needed for a root filesystem of its own.</summary>
    Mount,

    /// <summary><c>ipc</c>: System V IPC and POSIX message queues (<c>CLONE_NEWIPC</c>).</summary>
    Ipc,

    /// <summary><c>uts</c>: hostname and domain name (<c>CLONE_NEWUTS</c>).</summary>
    Uts,

    /// <summary><c>user</c>: user and group ids (<c>CLONE_NEWUSER</c>), mapped by uidMappings and gidMappings.</summary>
    User,

    /// <summary><c>cgroup</c>: the view of the cgroup hierarchy (<c>CLONE_NEWCGROUP</c>).</summary>
    Cgroup,

    /// <summary><c>time</c>: the boot and monotonic clocks' offsets (<c>CLONE_NEWTIME</c>).</summary>
    Time,
}
