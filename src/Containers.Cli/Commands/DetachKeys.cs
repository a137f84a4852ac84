using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary>
/// The key sequence that detaches an attached terminal (<c>attach</c>, <c>start -ai</c>), as Docker's
/// <c>--detach-keys</c> spells it: keys separated by commas, each <c>ctrl-</c> and one of <c>a</c>–<c>z</c>,
/// <c>@</c>, <c>[</c>, <c>\</c>, <c>]</c>, <c>^</c>, <c>_</c> (the control byte the terminal sends for it), <c>DEL</c>,
/// or a single ASCII character for itself: <c>ctrl-p,ctrl-q</c> (the default), <c>ctrl-a,x</c>, <c>ctrl-@</c>.
/// </summary>
internal sealed class DetachKeys
{
    /// <summary>The option's name, for the commands that take it and the ones that refuse it.</summary>
    public const string Option = "detach-keys";

    /// <summary>The help text's description of the forms <see cref="Parse"/> takes.</summary>
    public const string Forms = "keys separated by commas, each ctrl-<a-z, @, [, \\, ], ^ or _>, DEL or one character (default ctrl-p,ctrl-q)";

    /// <summary>Docker's default, Ctrl-P Ctrl-Q.</summary>
    public static readonly DetachKeys Default = Parse("ctrl-p,ctrl-q");

    // The characters after "ctrl-" in the order of the control bytes they make: ctrl-@ is 0, ctrl-a 1, ctrl-_ 31.
    private const string ControlNames = "@abcdefghijklmnopqrstuvwxyz[\\]^_";

    private DetachKeys(byte[] sequence) => Sequence = sequence;

    /// <summary>The bytes the terminal sends for the keys, in order.</summary>
    public IReadOnlyList<byte> Sequence { get; }

    /// <summary>The keys of <paramref name="text"/>; throws <see cref="FormatException"/> naming the key that is none.</summary>
    public static DetachKeys Parse(string text)
    {
        var sequence = new List<byte>();
        foreach (var key in text.Split(','))
        {
            if (key.Length == 1 && char.IsAscii(key[0]))
            {
                sequence.Add((byte)key[0]);
            }
            else if (key.Length == 6 && key.StartsWith("ctrl-", StringComparison.Ordinal) && ControlNames.IndexOf(key[5], StringComparison.Ordinal) is var code and >= 0)
            {
                sequence.Add((byte)code);
            }
            else if (key == "DEL")
            {
                sequence.Add(0x7f);
            }
            else
            {
                throw new FormatException(key.Length == 0 ? "a key is empty" : $"'{key}' is not a key");
            }
        }

        return new DetachKeys([.. sequence]);
    }

    /// <summary>The keys <c>--detach-keys</c> gives, or <see cref="Default"/>; a value that is no key sequence is a usage error.</summary>
    public static DetachKeys From(Invocation invocation)
    {
        if (invocation.Value(Option) is not { } text)
        {
            return Default;
        }

        try
        {
            return Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--{Option} '{text}': {e.Message}: give {Forms}", invocation.Path);
        }
    }

    /// <summary>A matcher of the sequence in one stream of keys.</summary>
    public Matcher Match() => new(this);

    /// <summary>
    /// Finds the sequence in keys read in pieces: the keys that may begin it are held back until the sequence is
    /// complete (the terminal detaches, and they never reach the container) or broken (they are passed on, with the key
    /// that broke it), as Docker's. Keys split across reads match as well as keys in one read.
    /// </summary>
    internal sealed class Matcher
    {
        private readonly IReadOnlyList<byte> _sequence;
        private readonly List<byte> _held = [];

        public Matcher(DetachKeys keys) => _sequence = keys.Sequence;

        /// <summary>
        /// Adds the keys of <paramref name="keys"/> that go to the container to <paramref name="pass"/>; true when the
        /// sequence is complete (the keys after it in <paramref name="keys"/> are for nobody: the terminal detaches).
        /// </summary>
        public bool Feed(ReadOnlySpan<byte> keys, List<byte> pass)
        {
            foreach (var key in keys)
            {
                _held.Add(key);
                if (key == _sequence[_held.Count - 1])
                {
                    if (_held.Count == _sequence.Count)
                    {
                        _held.Clear();
                        return true;
                    }

                    continue;
                }

                // Broken: what is held may still end in a shorter start of the sequence (ctrl-p, ctrl-p, ctrl-q with
                // the default); that part stays held, the rest goes on.
                var keep = _held.Count - 1;
                while (keep > 0 && !EndsWithStart(keep))
                {
                    keep--;
                }

                pass.AddRange(_held.GetRange(0, _held.Count - keep));
                _held.RemoveRange(0, _held.Count - keep);
            }

            return false;
        }

        /// <summary>The keys held back when the input ends: a sequence left incomplete is the container's.</summary>
        public void Flush(List<byte> pass)
        {
            pass.AddRange(_held);
            _held.Clear();
        }

        /// <summary>Whether the last <paramref name="length"/> held keys are the sequence's first ones.</summary>
        private bool EndsWithStart(int length)
        {
            var offset = _held.Count - length;
            for (var i = 0; i < length; i++)
            {
                if (_held[offset + i] != _sequence[i])
                {
                    return false;
                }
            }

            return true;
        }
    }
}
