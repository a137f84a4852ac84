namespace Containers.Images;

/// <summary>
/// An image, archive or image document is malformed, ambiguous, too large, or does not match its digest. The store is
/// left unchanged: fix or re-create the input and import it again.
/// </summary>
public class InvalidImageException : ContainersException
{
    /// <summary>Creates an error whose message says what is wrong with the image and where.</summary>
    public InvalidImageException(string message)
        : base(Printable.Escape(message))
    {
    }

    /// <summary>Creates an error with a message and the error that caused it.</summary>
    public InvalidImageException(string message, Exception? innerException)
        : base(Printable.Escape(message), innerException)
    {
    }
}
