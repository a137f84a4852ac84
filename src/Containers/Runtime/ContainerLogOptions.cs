namespace Containers.Runtime;

/// <summary>
/// How big a kept log (<see cref="ContainerCreateOptions.KeepLog"/>) may grow: when the next record would take the
/// log file past <see cref="MaxSize"/>, the file is rotated (<c>container.log</c> becomes <c>container.log.1</c>, the
/// older ones move up by one, the oldest beyond <see cref="MaxFiles"/> is deleted) and a new one begun. Docker's
/// <c>json-file</c> driver options <c>max-size</c> and <c>max-file</c>, with a cap by default.
/// </summary>
/// <example>
/// <code>
/// var options = new ContainerCreateOptions
/// {
///     KeepLog = true,
///     Log = new ContainerLogOptions { MaxSize = 1 &lt;&lt; 20, MaxFiles = 5 }, // at most 5 files of 1 MiB each
/// };
/// </code>
/// </example>
public sealed record ContainerLogOptions
{
    /// <summary>The smallest <see cref="MaxSize"/>: a record of a short line must fit a file.</summary>
    public const long MinSize = 1024;

    /// <summary>The default: files of at most 10 MiB, at most 3 of them (30 MiB per container).</summary>
    public static ContainerLogOptions Default { get; } = new();

    /// <summary>
    /// The most bytes one log file holds (default 10 MiB, at least <see cref="MinSize"/>). A line whose record alone
    /// would be bigger is split into several records, each ending where its part ends.
    /// </summary>
    public long MaxSize { get; init; } = 10 << 20;

    /// <summary>How many files the log keeps, the one being written included (default 3, at least 1: with 1 the file starts over when full).</summary>
    public int MaxFiles { get; init; } = 3;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="InvalidLogOptionsException">A setting is out of range.</exception>
    public void Validate()
    {
        if (MaxSize < MinSize)
        {
            throw new InvalidLogOptionsException($"log max-size {MaxSize} is too small: give at least {MinSize} bytes (1k)");
        }

        if (MaxFiles < 1)
        {
            throw new InvalidLogOptionsException($"log max-file {MaxFiles} is out of range: give 1 or more files");
        }
    }
}
