using System.Globalization;

namespace Containers.Runtime;

/// <summary>
/// An operation needs the container's process (a signal, a stop, a kill, an exec, a copy into its running root), and
/// the container's owner is in another pid namespace than this process (<see cref="ContainerInfo.OwnerInOtherPidNamespace"/>):
/// its pids are numbers of that namespace, which name other processes here, or none. Run the operation from a process
/// in the owner's pid namespace (where the container was created or run).
/// </summary>
/// <example>
/// <code>
/// try { await container.KillAsync(); }
/// catch (ContainerPidNamespaceException e) { Console.Error.WriteLine(e.Message); } // "… manage it from that namespace"
/// </code>
/// </example>
public sealed class ContainerPidNamespaceException : ContainersException
{
    /// <summary>Creates the error for <paramref name="operation"/> on container <paramref name="id"/>, owned by <paramref name="ownerPid"/> of pid namespace <paramref name="ownerPidNamespace"/>.</summary>
    public ContainerPidNamespaceException(string id, string operation, int ownerPid, ulong ownerPidNamespace)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"cannot {operation} container '{id}': it is owned by process {ownerPid} in another pid namespace (pid:[{ownerPidNamespace}]) than this one, whose pids name other processes here or none: manage it from a process in that pid namespace"))
    {
        Id = id;
        Operation = operation;
        OwnerPid = ownerPid;
        OwnerPidNamespace = ownerPidNamespace;
    }

    /// <summary>The container's id.</summary>
    public string Id { get; }

    /// <summary>What could not be done (<c>kill</c>, <c>exec in</c>, …).</summary>
    public string Operation { get; }

    /// <summary>The owner's pid, in its own pid namespace.</summary>
    public int OwnerPid { get; }

    /// <summary>The owner's pid namespace: the inode of its <c>/proc/PID/ns/pid</c>, as <c>pid:[INODE]</c> shows it.</summary>
    public ulong OwnerPidNamespace { get; }
}
