namespace Containers.Spec;

/// <summary>
/// A <see cref="ContainerSpec"/> (or a <c>config.json</c>) that cannot be run. <see cref="Errors"/> lists every
/// problem with its JSON path; the message lists them all on one line.
/// </summary>
public sealed class InvalidSpecException : ContainersException
{
    /// <summary>Creates the error from the problems found; there is at least one.</summary>
    public InvalidSpecException(IReadOnlyList<SpecError> errors)
        : this(errors, null)
    {
    }

    /// <summary>Creates the error from the problems found and the error that revealed them.</summary>
    public InvalidSpecException(IReadOnlyList<SpecError> errors, Exception? innerException)
        : base(FormatMessage(errors), innerException)
    {
        Errors = errors;
    }

    /// <summary>Every problem, in the order of the spec's fields.</summary>
    public IReadOnlyList<SpecError> Errors { get; }

    private static string FormatMessage(IReadOnlyList<SpecError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        string problems = errors.Count == 1 ? "1 problem" : $"{errors.Count} problems";
        return $"invalid container spec ({problems}): {string.Join("; ", errors)}";
    }
}
