using System.Text;

namespace Containers.Cli.CommandLine;

/// <summary>Prints a command's help as Docker lays it out: usage line, description, commands, options.</summary>
internal static class Help
{
    public static string For(CommandSpec command, string path)
    {
        var text = new StringBuilder();
        text.Append("\nUsage:  ").Append(path).Append(' ').AppendLine(command.Usage)
            .AppendLine().AppendLine(command.Description);
        var commands = command.Subcommands.Where(c => !c.Hidden).ToList();
        if (commands.Count > 0)
        {
            text.AppendLine().AppendLine("Commands:");
            var width = commands.Max(c => c.Name.Length) + 3;
            foreach (var sub in commands)
            {
                text.Append("  ").Append(sub.Name.PadRight(width)).AppendLine(sub.Description);
            }
        }

        var rows = command.Options.Where(o => !o.Hidden)
            .Append(OptionSpec.Flag("help", command.Options.Any(o => o.Short == 'h') ? null : 'h', "Print usage"))
            .Select(o => (Left: (o.Short is { } s ? $"-{s}, " : "    ") + "--" + o.Name + (o.ValueName is { } v ? " " + v : string.Empty), o.Description))
            .ToList();
        var optionWidth = rows.Max(r => r.Left.Length) + 3;
        text.AppendLine().AppendLine("Options:");
        foreach (var (left, description) in rows)
        {
            text.Append("  ").Append(left.PadRight(optionWidth)).AppendLine(description);
        }

        if (commands.Count > 0)
        {
            text.AppendLine().Append("Run '").Append(path).AppendLine(" COMMAND --help' for more information on a command.");
        }

        return text.ToString();
    }
}
