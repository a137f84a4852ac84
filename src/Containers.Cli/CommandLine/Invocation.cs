using System.Globalization;

namespace Containers.Cli.CommandLine;

/// <summary>A parsed command line for one command: which options were given, with their values, and the arguments.</summary>
internal sealed class Invocation
{
    private readonly Dictionary<string, List<string>> _values;

    public Invocation(CommandSpec command, string path, Dictionary<string, List<string>> values, IReadOnlyList<string> arguments)
    {
        Command = command;
        Path = path;
        _values = values;
        Arguments = arguments;
    }

    /// <summary>The command that was parsed.</summary>
    public CommandSpec Command { get; }

    /// <summary>The command as typed, for messages (<c>containers image inspect</c>).</summary>
    public string Path { get; }

    /// <summary>The arguments, in order (for run and exec: the container and its command).</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Whether a yes/no flag was given (and not as <c>--flag=false</c>).</summary>
    public bool Has(string option)
    {
        Command.Option(option);
        return _values.TryGetValue(option, out var values) && values[^1] != "false";
    }

    /// <summary>The last value given for an option, or null.</summary>
    public string? Value(string option)
    {
        Command.Option(option);
        return _values.TryGetValue(option, out var values) ? values[^1] : null;
    }

    /// <summary>Every value given for a repeatable option, in order.</summary>
    public IReadOnlyList<string> Values(string option)
    {
        Command.Option(option);
        return _values.TryGetValue(option, out var values) ? values : [];
    }

    /// <summary>An option's value as a whole number, or <paramref name="fallback"/> when it was not given.</summary>
    public int IntValue(string option, int fallback) =>
        Value(option) switch
        {
            null => fallback,
            var text when int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) => number,
            var text => throw new UsageException($"invalid value '{text}' for --{option}: use a whole number", Path),
        };
}
