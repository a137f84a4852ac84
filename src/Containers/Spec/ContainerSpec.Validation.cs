namespace Containers.Spec;

public sealed partial record ContainerSpec
{
    /// <summary>
    /// Checks the spec without touching the system and returns every problem found, each with its JSON path and
    /// what to fix; an empty list means the spec can be run.
    /// </summary>
    /// <example>
    /// <code>
    /// foreach (var error in ContainerSpec.For().Validate())
    /// {
    ///     Console.WriteLine(error); // process.args: must not be empty: give the program to run
    /// }
    /// </code>
    /// </example>
    public IReadOnlyList<SpecError> Validate() => SpecValidator.Validate(this);

    /// <summary>Throws <see cref="InvalidSpecException"/> listing every problem if <see cref="Validate"/> finds any.</summary>
    /// <exception cref="InvalidSpecException">The spec has at least one problem.</exception>
    public void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new InvalidSpecException(errors);
        }
    }
}
