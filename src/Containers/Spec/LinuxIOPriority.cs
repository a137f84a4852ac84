namespace Containers.Spec;

/// <summary>
/// The process's I/O scheduling class and priority (<c>process.ioPriority</c>), as <c>ioprio_set(2)</c> takes them.
/// Not applied by this runtime yet: <see cref="ContainerSpec.Validate"/> rejects it.
/// </summary>
public sealed record LinuxIOPriority
{
    /// <summary>The class (<c>class</c>): <c>IOPRIO_CLASS_RT</c>, <c>IOPRIO_CLASS_BE</c> or <c>IOPRIO_CLASS_IDLE</c>.</summary>
    public string Class { get; init => field = value ?? ""; } = "";

    /// <summary>The priority within the class (<c>priority</c>), 0 (highest) to 7.</summary>
    public int Priority { get; init; }
}
