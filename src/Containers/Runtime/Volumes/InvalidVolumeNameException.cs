namespace Containers.Runtime;

/// <summary>A volume name is not valid: it must start with a letter or digit and hold only letters, digits, <c>_</c>, <c>.</c> and <c>-</c> (at most 64).</summary>
public sealed class InvalidVolumeNameException : ContainersException
{
    /// <summary>Creates the error for <paramref name="name"/>.</summary>
    public InvalidVolumeNameException(string name)
        : base($"invalid volume name '{name}': use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 64)")
    {
        Name = name;
    }

    /// <summary>The name that was refused.</summary>
    public string Name { get; }
}
