namespace Containers.Cli.CommandLine;

/// <summary>
/// One command of the command line: its name, usage line, options, how many arguments it takes, and what it does.
/// Immutable; <see cref="Parser"/> reads it, <see cref="Help"/> prints it.
/// </summary>
/// <param name="Name">The word that selects it (<c>run</c>).</param>
/// <param name="Usage">What follows <c>containers NAME</c> in the usage line (<c>[OPTIONS] CONTAINER</c>).</param>
/// <param name="Description">One line for the help and the command list.</param>
internal sealed record CommandSpec(string Name, string Usage, string Description)
{
    /// <summary>The options it accepts (besides <c>-h</c>/<c>--help</c>, which every command has).</summary>
    public IReadOnlyList<OptionSpec> Options { get; init; } = [];

    /// <summary>The fewest arguments it needs.</summary>
    public int MinArguments { get; init; }

    /// <summary>The most arguments it takes.</summary>
    public int MaxArguments { get; init; } = int.MaxValue;

    /// <summary>
    /// Options end at the first argument, as in <c>docker run</c>: everything after the image or the program belongs to
    /// the container's command (<c>run --host-rootfs ls -l</c> passes <c>-l</c> to <c>ls</c>).
    /// </summary>
    public bool OptionsEndAtFirstArgument { get; init; }

    /// <summary>Left out of the command list (the detached container's monitor).</summary>
    public bool Hidden { get; init; }

    /// <summary>
    /// Commands below this one (<c>image inspect</c>), each built when typed; a command with subcommands has no action
    /// of its own.
    /// </summary>
    public IReadOnlyList<CommandEntry> Subcommands { get; init; } = [];

    /// <summary>What it does with the parsed invocation; returns the process's exit code.</summary>
    public Func<Invocation, CancellationToken, Task<int>>? Action { get; init; }

    /// <summary>Finds a declared option by its long name (a typo in a command's own code is a bug, so it throws).</summary>
    public OptionSpec Option(string name) =>
        Options.FirstOrDefault(o => o.Name == name) ?? throw new InvalidOperationException($"'{Name}' declares no option --{name}");
}
