namespace Containers.Cgroups;

/// <summary>
/// A limit this host cannot enforce, or a cgroup operation that failed. A limit is never dropped: a container whose
/// limit the host cannot apply is not created. <see cref="Field"/> names the spec field at fault, when there is one.
/// </summary>
public sealed class CgroupException : ContainersException
{
    /// <summary>Creates an error about <paramref name="field"/> (a JSON path such as <c>linux.resources.cpu.cpus</c>, or null).</summary>
    public CgroupException(string? field, string message)
        : base(field is null ? message : $"{field}: {message}")
    {
        Field = field;
    }

    /// <summary>Creates an error with the error that caused it.</summary>
    public CgroupException(string? field, string message, Exception? innerException)
        : base(field is null ? message : $"{field}: {message}", innerException)
    {
        Field = field;
    }

    /// <summary>The spec field the error is about (for example <c>linux.resources.memory.limit</c>), or null.</summary>
    public string? Field { get; }
}
