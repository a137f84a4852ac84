namespace Containers.Images.Snapshots;

/// <summary>
/// The snapshot store could not do its work for a reason outside the layer's content: a system call failed (the
/// message names it and its errno, for example <c>ENOSPC</c>), or the store directory is unusable.
/// </summary>
public sealed class SnapshotException : ContainersException
{
    /// <summary>Creates the error with a message that says what failed and what to do.</summary>
    public SnapshotException(string message)
        : base(Printable.Escape(message))
    {
    }

    /// <summary>Creates the error with a message and the error that caused it.</summary>
    public SnapshotException(string message, Exception? innerException)
        : base(Printable.Escape(message), innerException)
    {
    }
}
