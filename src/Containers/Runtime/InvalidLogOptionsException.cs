namespace Containers.Runtime;

/// <summary>A setting of <see cref="ContainerLogOptions"/> is out of range (or, from the command line, unknown); the message says which and what is accepted.</summary>
public sealed class InvalidLogOptionsException : ContainersException
{
    /// <summary>Creates the error with a message that names the setting and its accepted values.</summary>
    public InvalidLogOptionsException(string message)
        : base(message)
    {
    }
}
