using Containers.Cli.CommandLine;

namespace Containers.Tests.Cli;

public sealed class ParserTests
{
    private static readonly CommandSpec Run = new("run", "[OPTIONS] COMMAND [ARG...]", "Run")
    {
        MinArguments = 1,
        OptionsEndAtFirstArgument = true,
        Options =
        [
            OptionSpec.Flag("detach", 'd', "d"),
            OptionSpec.Flag("interactive", 'i', "i"),
            OptionSpec.Flag("tty", 't', "t"),
            OptionSpec.Flag("rm", null, "rm"),
            OptionSpec.Value("env", 'e', "list", "e"),
            OptionSpec.Value("hostname", 'h', "string", "h"),
            OptionSpec.Value("name", null, "string", "n"),
        ],
        Action = (_, _) => Task.FromResult(0),
    };

    private static readonly CommandSpec Ps = new("ps", "[OPTIONS]", "List")
    {
        MaxArguments = 0,
        Options = [OptionSpec.Flag("all", 'a', "a"), OptionSpec.Flag("quiet", 'q', "q")],
        Action = (_, _) => Task.FromResult(0),
    };

    private static readonly CommandSpec Root = new("containers", "COMMAND", "Root") { Subcommands = [Run, Ps] };

    private static Invocation Parse(params string[] args) => Parser.Parse(Root, args).Invocation!;

    [Fact]
    public void Bundled_short_flags_each_count()
    {
        var run = Parse("run", "-dit", "sh");

        Assert.True(run.Has("detach"));
        Assert.True(run.Has("interactive"));
        Assert.True(run.Has("tty"));
        Assert.Equal(["sh"], run.Arguments);
    }

    [Fact]
    public void A_bundle_ending_in_a_value_option_takes_the_rest_or_the_next_word()
    {
        Assert.Equal(["A=1"], Parse("run", "-ieA=1", "sh").Values("env"));
        Assert.Equal(["A=1"], Parse("run", "-e=A=1", "sh").Values("env"));
        Assert.Equal(["A=1", "B"], Parse("run", "-ie", "A=1", "--env", "B", "sh").Values("env"));
        Assert.Equal("web", Parse("run", "--name=web", "sh").Value("name"));
    }

    [Fact]
    public void A_flag_never_takes_the_next_word()
    {
        var run = Parse("run", "--rm", "true");

        Assert.True(run.Has("rm"));
        Assert.Equal(["true"], run.Arguments);
        Assert.False(Parse("run", "--rm=false", "true").Has("rm"));
    }

    [Fact]
    public void Options_end_at_the_first_argument_of_run_and_at_a_double_dash()
    {
        Assert.Equal(["ls", "-l", "--rm"], Parse("run", "-d", "ls", "-l", "--rm").Arguments);
        Assert.Equal(["-x"], Parse("run", "--", "-x").Arguments);
        Assert.Equal(["web", "ps", "--", "x"], Parse("run", "web", "--", "ps", "--", "x").Arguments);
    }

    [Fact]
    public void Options_and_arguments_mix_in_other_commands()
    {
        var ex = Assert.Throws<UsageException>(() => Parse("ps", "-a", "extra"));
        Assert.Contains("takes no arguments", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--memory", "unknown option '--memory' for 'containers run'")]
    [InlineData("-p", "unknown option '-p' for 'containers run'")]
    [InlineData("-dp", "unknown option '-p' in '-dp' for 'containers run'")]
    public void An_unknown_option_is_named(string option, string message)
    {
        var ex = Assert.Throws<UsageException>(() => Parse("run", option, "sh"));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("See 'containers run --help'.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_option_at_the_end_says_it_needs_a_value()
    {
        var missing = Assert.Throws<UsageException>(() => Parser.Parse(Root, ["run", "--name"]));
        Assert.Contains("option '--name' needs a value", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_argument_shows_the_usage()
    {
        var ex = Assert.Throws<UsageException>(() => Parser.Parse(Root, ["run", "-d"]));

        Assert.Contains("'containers run' requires at least 1 argument: containers run [OPTIONS] COMMAND [ARG...]", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rnu", "run")]
    [InlineData("pss", "ps")]
    [InlineData("r", "run")]
    public void An_unknown_command_suggests_the_nearest(string typo, string nearest)
    {
        var ex = Assert.Throws<UsageException>(() => Parser.Parse(Root, [typo]));

        Assert.Contains($"'{typo}' is not a containers command: did you mean '{nearest}'?", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_command_far_from_every_name_suggests_nothing()
    {
        var ex = Assert.Throws<UsageException>(() => Parser.Parse(Root, ["deploy"]));

        Assert.DoesNotContain("did you mean", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_is_asked_for_with_dash_dash_help_and_with_dash_h_where_h_is_free()
    {
        Assert.Null(Parser.Parse(Root, ["ps", "-h"]).Invocation);
        Assert.Null(Parser.Parse(Root, ["run", "--help"]).Invocation);
        Assert.Equal("box", Parse("run", "-h", "box", "sh").Value("hostname"));
        Assert.Null(Parser.Parse(Root, []).Invocation);
    }

    [Fact]
    public void Help_shows_the_command_as_containers_with_every_visible_option()
    {
        var help = Help.For(Run, "containers run");

        Assert.StartsWith("\nUsage:  containers run [OPTIONS] COMMAND [ARG...]\n", help, StringComparison.Ordinal);
        Assert.Contains("  -d, --detach", help, StringComparison.Ordinal);
        Assert.Contains("      --name string", help, StringComparison.Ordinal);
        Assert.Contains("      --help", help, StringComparison.Ordinal);
    }
}
