namespace Containers.Runtime;

/// <summary>A secret cannot be handed to a container: a bad name, a name given twice, or a file that cannot be read or is too large. Nothing was created.</summary>
public sealed class InvalidSecretException : ContainersException
{
    /// <summary>Creates the error for secret <paramref name="name"/>.</summary>
    public InvalidSecretException(string name, string problem, Exception? innerException = null)
        : base($"secret '{name}': {problem}", innerException)
    {
        Name = name;
    }

    /// <summary>The secret's name.</summary>
    public string Name { get; }
}
