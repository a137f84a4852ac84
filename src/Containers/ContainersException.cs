namespace Containers;

/// <summary>
/// The base of every error this library raises on purpose. Catch it to handle any container or image failure;
/// catch a subtype (for example <c>ContainerStartException</c> or <c>InvalidImageException</c>) to handle one kind.
/// </summary>
public class ContainersException : Exception
{
    /// <summary>Creates an error with a message that says what failed and what to do about it.</summary>
    public ContainersException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an error with a message and the error that caused it.</summary>
    public ContainersException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
