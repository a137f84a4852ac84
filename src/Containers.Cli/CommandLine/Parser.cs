namespace Containers.Cli.CommandLine;

/// <summary>
/// Docker's command-line conventions, so muscle memory works: <c>--name value</c>, <c>--name=value</c>, one-letter
/// options bundled (<c>-dit</c>, <c>-e=A=1</c>, <c>-eA=1</c>), yes/no flags that never take the next word
/// (<c>--rm true</c> is the flag and the argument <c>true</c>; <c>--rm=false</c> turns it off), <c>--</c> ends the
/// options, and an unknown option or command is an error that names it. For run and exec, options end at the first
/// argument; a <c>--</c> right after it (<c>exec web -- ps</c>) is dropped.
/// </summary>
internal static class Parser
{
    /// <summary>The name the command line is installed and shown as.</summary>
    public const string ProgramName = "containers";

    private static readonly OptionSpec HelpOption = OptionSpec.Flag("help", 'h', "Print usage");

    /// <summary>What the command line asks for: a command to run, or the help of one.</summary>
    /// <param name="Command">The command reached.</param>
    /// <param name="Path">The command as typed (<c>containers image inspect</c>).</param>
    /// <param name="Invocation">The parsed options and arguments, or null when the help was asked for.</param>
    public sealed record Result(CommandSpec Command, string Path, Invocation? Invocation);

    public static Result Parse(CommandSpec root, IReadOnlyList<string> args)
    {
        var command = root;
        var path = ProgramName;
        var index = 0;
        while (command.Subcommands.Count > 0)
        {
            if (index >= args.Count || args[index] is "-h" or "--help")
            {
                return new Result(command, path, null);
            }

            var word = args[index];
            if (word.StartsWith('-'))
            {
                throw new UsageException($"unknown option '{word}' for '{path}'", path);
            }

            var next = command.Subcommands.FirstOrDefault(c => c.Name == word);
            if (next is null)
            {
                var nearest = Nearest(word, command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
                throw new UsageException(
                    $"'{word}' is not a {path} command" + (nearest is null ? string.Empty : $": did you mean '{nearest}'?"), path);
            }

            command = next.Build();
            path += " " + word;
            index++;
        }

        return ParseOptions(command, path, args, index);
    }

    private static Result ParseOptions(CommandSpec command, string path, IReadOnlyList<string> args, int index)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var arguments = new List<string>();
        var optionsEnded = false;
        for (; index < args.Count; index++)
        {
            var token = args[index];
            if (optionsEnded || token == "-" || !token.StartsWith('-'))
            {
                arguments.Add(token);
                if (command.OptionsEndAtFirstArgument && !optionsEnded)
                {
                    optionsEnded = true;

                    // "exec web -- ps": a "--" right after the first argument still only separates.
                    if (index + 1 < args.Count && args[index + 1] == "--")
                    {
                        index++;
                    }
                }

                continue;
            }

            if (token == "--")
            {
                optionsEnded = true;
                continue;
            }

            if (token.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = token.IndexOf('=', StringComparison.Ordinal);
                var name = eq < 0 ? token[2..] : token[2..eq];
                var inline = eq < 0 ? null : token[(eq + 1)..];
                var option = command.Options.FirstOrDefault(o => o.Name == name)
                    ?? (name == HelpOption.Name ? HelpOption : throw new UsageException($"unknown option '--{name}' for '{path}'", path));
                if (option == HelpOption)
                {
                    return new Result(command, path, null);
                }

                Add(values, option, option.TakesValue ? inline ?? NextValue(args, ref index, "--" + name, path) : FlagValue(inline, name, path));
                continue;
            }

            for (var j = 1; j < token.Length; j++)
            {
                var letter = token[j];
                var option = command.Options.FirstOrDefault(o => o.Short == letter)
                    ?? (letter == HelpOption.Short ? HelpOption : throw new UsageException(
                        token.Length == 2 ? $"unknown option '-{letter}' for '{path}'" : $"unknown option '-{letter}' in '{token}' for '{path}'", path));
                if (option == HelpOption)
                {
                    return new Result(command, path, null);
                }

                if (!option.TakesValue)
                {
                    Add(values, option, "true");
                    continue;
                }

                var rest = token[(j + 1)..];
                Add(values, option, rest.Length > 0 ? rest.TrimStart('=') : NextValue(args, ref index, "-" + letter, path));
                break;
            }
        }

        if (arguments.Count < command.MinArguments)
        {
            var needed = command.MinArguments == 1 ? "1 argument" : $"{command.MinArguments} arguments";
            throw new UsageException($"'{path}' requires at least {needed}: {path} {command.Usage}", path);
        }

        if (arguments.Count > command.MaxArguments)
        {
            var allowed = command.MaxArguments switch { 0 => "no arguments", 1 => "at most 1 argument", var n => $"at most {n} arguments" };
            throw new UsageException($"'{path}' takes {allowed}, got '{string.Join(' ', arguments)}': {path} {command.Usage}", path);
        }

        return new Result(command, path, new Invocation(command, path, values, arguments));
    }

    private static void Add(Dictionary<string, List<string>> values, OptionSpec option, string value)
    {
        if (!values.TryGetValue(option.Name, out var list))
        {
            values[option.Name] = list = [];
        }

        list.Add(value);
    }

    private static string NextValue(IReadOnlyList<string> args, ref int index, string option, string path) =>
        ++index < args.Count ? args[index] : throw new UsageException($"option '{option}' needs a value", path);

    private static string FlagValue(string? inline, string name, string path) => inline switch
    {
        null or "true" => "true",
        "false" => "false",
        _ => throw new UsageException($"option '--{name}' is a yes/no flag: give it alone, or as --{name}=true or --{name}=false", path),
    };

    /// <summary>The candidate closest to a mistyped word (at most two edits away, or one it starts), if any.</summary>
    internal static string? Nearest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = candidate.StartsWith(word, StringComparison.Ordinal) ? 1 : EditDistance(word, candidate);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return bestDistance <= 2 ? best : null;
    }

    /// <summary>Levenshtein distance with adjacent swaps counted as one edit (<c>rnu</c> is one from <c>run</c>).</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
