namespace Containers.Runtime;

/// <summary>Which of the container's output streams a line or record came from.</summary>
public enum OutputStream
{
    /// <summary>Standard output (fd 1).</summary>
    Stdout,

    /// <summary>Standard error (fd 2).</summary>
    Stderr,
}
