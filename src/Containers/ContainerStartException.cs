namespace Containers;

/// <summary>
/// A container's process could not be started: a setup step in the new process failed (for example
/// <c>Stage = "pivot_root"</c>, <c>ErrnoName = "EINVAL"</c>), or the process could not be created at all
/// (<c>Stage = "clone"</c>). The message says what failed and, where there is a known remedy, what to do.
/// </summary>
public class ContainerStartException : ContainersException
{
    /// <summary>Creates the error for a failed setup step.</summary>
    /// <param name="stage">The step that failed, as "mount /proc" or "exec /bin/sh".</param>
    /// <param name="errno">The Linux errno of the failure.</param>
    /// <param name="errnoName">The symbolic errno name, as "EPERM".</param>
    /// <param name="message">The full message: stage, errno and remedy.</param>
    public ContainerStartException(string stage, int errno, string errnoName, string message)
        : base(message)
    {
        Stage = stage;
        Errno = errno;
        ErrnoName = errnoName;
    }

    /// <summary>The setup step that failed ("clone", "pivot_root", "mount /proc", "exec /bin/sh", ...).</summary>
    public string Stage { get; }

    /// <summary>The Linux errno of the failure.</summary>
    public int Errno { get; }

    /// <summary>The symbolic name of <see cref="Errno"/>, as "EPERM".</summary>
    public string ErrnoName { get; }
}
