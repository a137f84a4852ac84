namespace Containers.Images;

/// <summary>
/// A container's changes could not be committed as an image: the upper directory holds something a layer cannot
/// represent (an overlay <c>metacopy</c> or <c>redirect_dir</c> entry), changed while it was read, or could not be
/// read. Nothing was added to the store.
/// </summary>
public class ImageCommitException : ContainersException
{
    /// <summary>Creates an error whose message says what could not be committed and what to do.</summary>
    public ImageCommitException(string message)
        : base(Printable.Escape(message))
    {
    }

    /// <summary>Creates an error with a message and the error that caused it.</summary>
    public ImageCommitException(string message, Exception? innerException)
        : base(Printable.Escape(message), innerException)
    {
    }
}
