namespace Containers.Runtime;

/// <summary>A container id (name) is not usable: it must be 1–64 characters of letters, digits, '_', '.', '-', starting with a letter or digit.</summary>
public sealed class InvalidContainerIdException : ContainersException
{
    /// <summary>Creates the error for <paramref name="id"/>.</summary>
    public InvalidContainerIdException(string id)
        : base($"invalid container name '{id}': use 1-64 characters from [a-zA-Z0-9_.-], starting with a letter or digit")
    {
        Id = id;
    }

    /// <summary>The rejected id.</summary>
    public string Id { get; }
}
