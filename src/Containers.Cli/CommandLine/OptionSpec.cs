namespace Containers.Cli.CommandLine;

/// <summary>
/// One option of a command, as Docker spells them: <c>--name</c>, an optional one-letter <c>-n</c>, and either a
/// value (<see cref="ValueName"/> set) or none (a yes/no flag, which never takes the next word as its value).
/// </summary>
/// <param name="Name">The long name without dashes (<c>detach</c>).</param>
/// <param name="Short">The one-letter name without its dash, if any.</param>
/// <param name="Description">One line for the help.</param>
/// <param name="ValueName">How the help names the value (<c>string</c>, <c>list</c>); null for a yes/no flag.</param>
/// <param name="Hidden">Accepted but left out of the help.</param>
internal sealed record OptionSpec(string Name, char? Short, string Description, string? ValueName = null, bool Hidden = false)
{
    /// <summary>Whether the option takes a value (<c>--name web</c>, <c>--name=web</c>, <c>-nweb</c>).</summary>
    public bool TakesValue => ValueName is not null;

    /// <summary>A yes/no flag.</summary>
    public static OptionSpec Flag(string name, char? shortName, string description) => new(name, shortName, description);

    /// <summary>An option with a value; repeated, every value is kept in order.</summary>
    public static OptionSpec Value(string name, char? shortName, string valueName, string description) => new(name, shortName, description, valueName);
}
