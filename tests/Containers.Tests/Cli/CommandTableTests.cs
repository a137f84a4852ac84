using Containers.Cli;
using Containers.Cli.CommandLine;

namespace Containers.Tests.Cli;

/// <summary>
/// The command list names and summarises each command without building it: these hold every entry to the command it
/// builds, so a renamed command or a changed summary fails here, not in the help a user reads.
/// </summary>
public sealed class CommandTableTests
{
    public static TheoryData<string> Paths() => [.. Entries(Program.Root, Parser.ProgramName).Select(e => e.Path)];

    [Theory]
    [MemberData(nameof(Paths))]
    public void Each_entry_has_the_name_summary_and_visibility_of_the_command_it_builds(string path)
    {
        var (entry, _) = Entries(Program.Root, Parser.ProgramName).Single(e => e.Path == path);

        var built = entry.Build();

        Assert.Equal(entry.Name, built.Name);
        Assert.Equal(entry.Description, built.Description);
        Assert.Equal(entry.Hidden, built.Hidden);
        Assert.True(built.Action is not null || built.Subcommands.Count > 0, $"'{path}' neither acts nor has subcommands");
    }

    [Fact]
    public void Names_are_unique_and_the_list_shows_every_visible_command_with_its_summary()
    {
        var names = Program.Root.Subcommands.Select(e => e.Name).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());

        var help = Help.For(Program.Root, Parser.ProgramName);

        foreach (var entry in Program.Root.Subcommands)
        {
            Assert.Equal(!entry.Hidden, help.Contains($"  {entry.Name} ", StringComparison.Ordinal) && help.Contains(entry.Description, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Parsing_builds_the_command_typed_and_a_mistyped_one_is_named_with_the_nearest()
    {
        var ps = Parser.Parse(Program.Root, ["ps", "-a"]);
        Assert.Equal("ps", ps.Command.Name);
        Assert.True(ps.Invocation!.Has("all"));

        var inspect = Parser.Parse(Program.Root, ["image", "inspect", "--help"]);
        Assert.Equal("containers image inspect", inspect.Path);
        Assert.Null(inspect.Invocation);

        var typo = Assert.Throws<UsageException>(() => Parser.Parse(Program.Root, ["verison"]));
        Assert.Contains("did you mean 'version'?", typo.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(MonitorCommandName, Assert.Throws<UsageException>(() => Parser.Parse(Program.Root, ["__monitr"])).Message, StringComparison.Ordinal);
    }

    private const string MonitorCommandName = "__monitor";

    private static IEnumerable<(CommandEntry Entry, string Path)> Entries(CommandSpec command, string path)
    {
        foreach (var entry in command.Subcommands)
        {
            var entryPath = path + " " + entry.Name;
            yield return (entry, entryPath);
            foreach (var below in Entries(entry.Build(), entryPath))
            {
                yield return below;
            }
        }
    }
}
