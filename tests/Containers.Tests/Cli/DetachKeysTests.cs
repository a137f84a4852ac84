using Containers.Cli.CommandLine;
using Containers.Cli.Commands;

namespace Containers.Tests.Cli;

/// <summary>
/// <c>--detach-keys</c>: Docker's spellings parse to the bytes a terminal sends for them, anything else is refused by
/// name, and the matcher holds a started sequence back until it is complete or broken.
/// </summary>
public sealed class DetachKeysTests
{
    [Theory]
    [InlineData("ctrl-p,ctrl-q", new byte[] { 0x10, 0x11 })]
    [InlineData("ctrl-a,x", new byte[] { 0x01, (byte)'x' })]
    [InlineData("ctrl-@", new byte[] { 0x00 })]
    [InlineData("ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", new byte[] { 0x1b, 0x1c, 0x1d, 0x1e, 0x1f })]
    [InlineData("ctrl-z,DEL,~,-", new byte[] { 0x1a, 0x7f, (byte)'~', (byte)'-' })]
    public void Dockers_spellings_parse_to_the_bytes_the_terminal_sends(string text, byte[] expected) =>
        Assert.Equal(expected, DetachKeys.Parse(text).Sequence);

    [Fact]
    public void The_default_is_ctrl_p_ctrl_q() => Assert.Equal(new byte[] { 0x10, 0x11 }, DetachKeys.Default.Sequence);

    [Theory]
    [InlineData("shift-z", "'shift-z' is not a key")]
    [InlineData("ctrl-P", "'ctrl-P' is not a key")]
    [InlineData("ctrl-1", "'ctrl-1' is not a key")]
    [InlineData("ctrl-", "'ctrl-' is not a key")]
    [InlineData("ctrl-p,,ctrl-q", "a key is empty")]
    [InlineData("", "a key is empty")]
    [InlineData("é", "'é' is not a key")]
    [InlineData("ab", "'ab' is not a key")]
    public void Anything_else_is_refused_naming_the_key(string text, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => DetachKeys.Parse(text)).Message);

    [Fact]
    public void The_option_with_a_bad_value_is_a_usage_error_naming_it_and_the_forms()
    {
        var attach = new CommandSpec("attach", "[OPTIONS] CONTAINER", "Attach")
        {
            MinArguments = 1,
            Options = [OptionSpec.Value(DetachKeys.Option, null, "string", "keys")],
            Action = (_, _) => Task.FromResult(0),
        };
        var root = new CommandSpec("containers", "COMMAND", "Root") { Subcommands = [attach] };

        var error = Assert.Throws<UsageException>(() => DetachKeys.From(Parser.Parse(root, ["attach", "--detach-keys", "ctrl-p,meta-q", "box"]).Invocation!));

        Assert.StartsWith("--detach-keys 'ctrl-p,meta-q': 'meta-q' is not a key: give keys separated by commas, each ctrl-", error.Message, StringComparison.Ordinal);
        Assert.Same(DetachKeys.Default, DetachKeys.From(Parser.Parse(root, ["attach", "box"]).Invocation!));
    }

    [Fact]
    public void Keys_without_the_sequence_pass_at_once()
    {
        var (detached, passed) = Feed("ctrl-p,ctrl-q", "ls\r");

        Assert.False(detached);
        Assert.Equal("ls\r", passed);
    }

    [Fact]
    public void The_whole_sequence_detaches_and_reaches_nobody_while_keys_before_it_pass()
    {
        var (detached, passed) = Feed("ctrl-a,x,y", "ab\u0001xy", "after");

        Assert.True(detached);
        Assert.Equal("ab", passed);
    }

    [Fact]
    public void A_sequence_typed_one_key_per_read_detaches_and_its_keys_are_held_until_then()
    {
        var keys = DetachKeys.Parse("ctrl-a,x,y").Match();
        var passed = new List<byte>();

        Assert.False(keys.Feed([0x01], passed));
        Assert.False(keys.Feed("x"u8, passed));
        Assert.Empty(passed);
        Assert.True(keys.Feed("y"u8, passed));
        Assert.Empty(passed);
    }

    [Fact]
    public void A_broken_prefix_is_passed_on_with_the_key_that_broke_it()
    {
        var (detached, passed) = Feed("ctrl-a,x,y", "\u0001", "x", "z!");

        Assert.False(detached);
        Assert.Equal("\u0001xz!", passed);
    }

    [Fact]
    public void A_key_that_breaks_the_sequence_may_start_it_again()
    {
        // Ctrl-P Ctrl-P Ctrl-Q: the first Ctrl-P is the container's, the last two detach.
        var (detached, passed) = Feed("ctrl-p,ctrl-q", "\u0010", "\u0010\u0011");

        Assert.True(detached);
        Assert.Equal("\u0010", passed);
    }

    [Fact]
    public void A_broken_prefix_that_ends_in_a_shorter_start_keeps_that_start_held()
    {
        // a a a b against a,a,b: the first a is the container's, then a a b is the sequence.
        var (detached, passed) = Feed("a,a,b", "aa", "a", "b");

        Assert.True(detached);
        Assert.Equal("a", passed);
    }

    [Fact]
    public void A_single_key_sequence_detaches_on_that_key()
    {
        var (detached, passed) = Feed("ctrl-@", "ls", "\0", "more");

        Assert.True(detached);
        Assert.Equal("ls", passed);
    }

    [Fact]
    public void Keys_held_when_the_input_ends_are_the_containers()
    {
        var keys = DetachKeys.Parse("ctrl-a,x").Match();
        var passed = new List<byte>();

        Assert.False(keys.Feed("z\u0001"u8, passed));
        keys.Flush(passed);

        Assert.Equal("z\u0001"u8.ToArray(), passed);
    }

    /// <summary>Each string one read; stops at the read that detaches, as the attach does.</summary>
    private static (bool Detached, string Passed) Feed(string sequence, params string[] reads)
    {
        var keys = DetachKeys.Parse(sequence).Match();
        var passed = new List<byte>();
        foreach (var read in reads)
        {
            if (keys.Feed(System.Text.Encoding.Latin1.GetBytes(read), passed))
            {
                return (true, System.Text.Encoding.Latin1.GetString([.. passed]));
            }
        }

        return (false, System.Text.Encoding.Latin1.GetString([.. passed]));
    }
}
