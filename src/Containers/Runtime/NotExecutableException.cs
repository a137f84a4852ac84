namespace Containers.Runtime;

/// <summary>The process's program exists in the container's root filesystem but cannot be executed: it is a directory or has no execute permission.</summary>
public sealed class NotExecutableException : ContainersException
{
    /// <summary>Creates the error for <paramref name="executable"/>, found at <paramref name="path"/>.</summary>
    /// <param name="executable">The program as the spec names it.</param>
    /// <param name="path">The path inside the container it was found at.</param>
    /// <param name="isDirectory">Whether the path is a directory.</param>
    public NotExecutableException(string executable, string path, bool isDirectory)
        : base(isDirectory
            ? $"executable '{executable}' is a directory in the container's root filesystem ({path}): name the program inside it"
            : $"executable '{executable}' is not executable in the container's root filesystem ({path} has no execute permission): " +
              "chmod +x it, or run it through its interpreter (for example sh script.sh)")
    {
        Executable = executable;
        Path = path;
    }

    /// <summary>The executable as the spec names it (<c>process.args[0]</c>).</summary>
    public string Executable { get; }

    /// <summary>The path inside the container that is not executable.</summary>
    public string Path { get; }
}
