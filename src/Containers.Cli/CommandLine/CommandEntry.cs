namespace Containers.Cli.CommandLine;

/// <summary>
/// A command as its parent's list knows it: the word that selects it, its line in the command list, and how to build
/// its <see cref="CommandSpec"/>. Only the command typed is built, so a start pays for one option table, not for every
/// command's (in a native binary each table is code and data touched for the first time).
/// </summary>
/// <param name="Name">The word that selects it; the same as the built spec's (a test holds the two together).</param>
/// <param name="Description">Its line in the command list; the same as the built spec's.</param>
/// <param name="Build">Builds the full command: options, argument counts and action.</param>
internal sealed record CommandEntry(string Name, string Description, Func<CommandSpec> Build)
{
    /// <summary>Left out of the command list (the detached container's monitor); the same as the built spec's.</summary>
    public bool Hidden { get; init; }

    /// <summary>An entry for a command already built (subcommands declared inline, as <c>image inspect</c>).</summary>
    public static CommandEntry Of(CommandSpec command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return new(command.Name, command.Description, () => command) { Hidden = command.Hidden };
    }

    /// <summary>The same as <see cref="Of"/>, so a list of built commands reads as a list of entries.</summary>
    public static implicit operator CommandEntry(CommandSpec command) => Of(command);
}
