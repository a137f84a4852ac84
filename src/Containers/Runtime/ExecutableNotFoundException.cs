namespace Containers.Runtime;

/// <summary>The process's program does not exist inside the container's root filesystem.</summary>
public sealed class ExecutableNotFoundException : ContainersException
{
    /// <summary>Creates the error for <paramref name="executable"/> looked up in <paramref name="searched"/>.</summary>
    /// <param name="executable">The program as the spec names it.</param>
    /// <param name="searched">Where it was looked for: a path, or <c>PATH=</c> and the directories searched.</param>
    public ExecutableNotFoundException(string executable, string searched)
        : base($"executable '{executable}' not found in the container's root filesystem (searched {searched}): " +
               "use an absolute path that exists in the rootfs or add its directory to PATH in the process's env")
    {
        Executable = executable;
    }

    /// <summary>The executable as the spec names it (<c>process.args[0]</c>).</summary>
    public string Executable { get; }
}
