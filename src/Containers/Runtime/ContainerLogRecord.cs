namespace Containers.Runtime;

/// <summary>
/// One record of a detached container's output log: one JSON object per line, as Docker's <c>json-file</c> driver
/// writes (<c>{"log":"text\n","stream":"stdout","time":"…"}</c>).
/// </summary>
internal sealed record ContainerLogRecord
{
    /// <summary>The output, including its trailing newline when the line had one.</summary>
    public required string Log { get; init; }

    /// <summary><c>stdout</c> or <c>stderr</c>.</summary>
    public required string Stream { get; init; }

    /// <summary>When the monitor read the output.</summary>
    public required DateTimeOffset Time { get; init; }
}
