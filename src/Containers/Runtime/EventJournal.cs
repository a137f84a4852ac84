using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Containers.Linux;
using Containers.Spec;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Runtime;

/// <summary>
/// The container events of one state directory: <c>events.jsonl</c> in it, one JSON object per line, appended by
/// every process that changes a container (its owner, and a <c>kill</c>, <c>pause</c> or <c>rm</c> from another), and
/// followed by readers in any process. There is no daemon to hand events around; the file is the one place all of
/// them meet.
/// </summary>
/// <remarks>
/// A line is one <c>write</c> with <c>O_APPEND</c>, so lines of concurrent writers never mix. Once the file passes
/// <see cref="DefaultRotateAt"/> (or the size given) the writer that notices renames it to <c>events.jsonl.1</c> (replacing the older one), so
/// the journal keeps between one and two rotations of history. Writers hold a shared <c>flock</c> on the file while
/// they append and the rotating one an exclusive lock while it renames, so no line is written into a file after
/// it was rotated: a reader that sees the path name a new file finishes the old one, reads <c>events.jsonl.1</c> when
/// that is a file it has not read (it fell one rotation behind), and goes on with the new one. A reader more than
/// one rotation (about 5 000 events) behind misses the files in between. Readers take no lock.
/// </remarks>
internal sealed class EventJournal
{
    public const string FileName = "events.jsonl";

    /// <summary>The size after which a writer rotates the file (about 5 000 events).</summary>
    internal const long DefaultRotateAt = 1 << 20;

    private const int OAppend = 0x400;

    private readonly long _rotateAt;

    public EventJournal(string stateRoot, long rotateAt = DefaultRotateAt)
    {
        Path = System.IO.Path.Combine(stateRoot, FileName);
        Rotated = Path + ".1";
        _rotateAt = rotateAt;
    }

    public string Path { get; }

    public string Rotated { get; }

    /// <summary>Appends <paramref name="events"/> as one write (a run's create and start land together).</summary>
    /// <exception cref="IOException">The journal cannot be opened or written.</exception>
    /// <exception cref="UnauthorizedAccessException">The journal may not be opened (<c>EACCES</c>, <c>EPERM</c>).</exception>
    public unsafe void Append(params ReadOnlySpan<ContainerEvent> events)
    {
        var line = new ArrayBufferWriter<byte>(256 * events.Length);
        foreach (var e in events)
        {
            Write(line, e);
        }

        while (true)
        {
            using (var file = StateDirectory.OpenFile(Path, OWrOnly | OCreat | OAppend | OCloExec, 0b110_000_000))
            {
                Lock(file, LockSh);

                // Rotated between the open and the lock: that file is complete; append to the one the path names now.
                if (FileIdentity.OfPath(Path) != FileIdentity.Of(file, out var sizeBefore))
                {
                    continue;
                }

                fixed (byte* p = line.WrittenSpan)
                {
                    if (FileSystemCalls.Write(file, p, (nuint)line.WrittenCount) != line.WrittenCount)
                    {
                        throw new IOException($"appending to {Path}: {Errno.Name(Marshal.GetLastPInvokeError())}");
                    }
                }

                // The size before this line and the line: other writers' lines meanwhile only make it larger, so a
                // file past the limit is noticed by this writer or the next, without asking its size again.
                if (sizeBefore + line.WrittenCount > _rotateAt)
                {
                    // Exclusive: every writer that opened this file has finished its line. A writer that rotated it
                    // meanwhile leaves the path naming another file.
                    Lock(file, LockEx);
                    if (FileIdentity.OfPath(Path) == FileIdentity.Of(file))
                    {
                        File.Move(Path, Rotated, overwrite: true);
                    }
                }

                return;
            }
        }
    }

    /// <summary>
    /// Whether the recorded history holds an event of container <paramref name="id"/> with <paramref name="action"/>
    /// at or after <paramref name="since"/>: what a sweep asks before recording a die that a dead owner may have
    /// recorded already. Reads both files, the current one first, so a rotation meanwhile hides nothing (the rotated
    /// name then holds the file just read, or a later one); history older than one rotation is not read.
    /// </summary>
    public bool Holds(string id, ContainerEventAction action, DateTimeOffset since)
    {
        foreach (var path in (string[])[Path, Rotated])
        {
            using var file = JournalFile.Open(path);
            if (file is not null && file.ReadToEnd().Exists(e => e.Action == action && e.Id == id && e.Time >= since))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The events from <paramref name="since"/> (the recorded history, when given; otherwise only events from now on)
    /// to <paramref name="until"/> (forever, when null): history first, then new events as they are appended.
    /// </summary>
    public async IAsyncEnumerable<ContainerEvent> ReadAsync(
        DateTimeOffset? since, DateTimeOffset? until, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var history = since is not null || until is not null;
        var current = JournalFile.Open(Path);

        // The last file read to its end (or, from now on only, passed over): the rotated name holding it is not new.
        FileIdentity? done = null;
        try
        {
            if (history)
            {
                // The older file first, unless it is the one just opened (rotated in between: read once, below).
                using var older = JournalFile.Open(Rotated);
                if (older is not null && older.Identity != current?.Identity)
                {
                    done = older.Identity;
                    foreach (var e in older.ReadToEnd())
                    {
                        if (Within(e, since, until))
                        {
                            yield return e;
                        }
                    }
                }
            }
            else
            {
                current?.SkipToEnd();
                done = FileIdentity.OfPath(Rotated);
            }

            while (true)
            {
                // Sampled before the read: an event recorded before the end is still read.
                var finished = until is { } end && DateTimeOffset.UtcNow > end;
                if (current is not null)
                {
                    foreach (var e in current.ReadToEnd())
                    {
                        if (Within(e, since, until))
                        {
                            yield return e;
                        }
                    }

                    // Rotated: no writer adds to the old file any more (see the remarks); read its rest, then the newer ones.
                    if (FileIdentity.OfPath(Path) is { } now && now != current.Identity)
                    {
                        foreach (var e in current.ReadToEnd())
                        {
                            if (Within(e, since, until))
                            {
                                yield return e;
                            }
                        }

                        done = current.Identity;
                        current.Dispose();
                        current = null;
                    }
                }

                // The path first: a rotation after it makes the rotated name the file just opened (skipped). The
                // rotated name holds a file not read yet when the path was rotated again meanwhile (or, with no file
                // open, rotated since the start).
                if (current is null && JournalFile.Open(Path) is { } opened)
                {
                    current = opened;
                    using var between = JournalFile.Open(Rotated);
                    if (between is not null && between.Identity != done && between.Identity != current.Identity)
                    {
                        foreach (var e in between.ReadToEnd())
                        {
                            if (Within(e, since, until))
                            {
                                yield return e;
                            }
                        }
                    }

                    continue;
                }

                if (finished)
                {
                    yield break;
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            current?.Dispose();
        }
    }

    private static bool Within(ContainerEvent e, DateTimeOffset? since, DateTimeOffset? until) =>
        (since is null || e.Time >= since) && (until is null || e.Time <= until);

    private static void Lock(SafeFileHandle file, int operation)
    {
        int result;
        while ((result = Flock(file, operation)) != 0 && Marshal.GetLastPInvokeError() == Errno.EINTR)
        {
        }

        if (result != 0)
        {
            throw new IOException($"flock: {Errno.Name(Marshal.GetLastPInvokeError())}");
        }
    }

    internal static void Write(IBufferWriter<byte> output, ContainerEvent e)
    {
        using (var json = new Utf8JsonWriter(output, JsonEscaping.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("time", e.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("id", e.Id);
            json.WriteString("action", Name(e.Action));
            if (e.Image is { } image)
            {
                json.WriteString("image", image);
            }

            if (e.ExitCode is { } exitCode)
            {
                json.WriteNumber("exitCode", exitCode);
            }

            if (e.Signal is { } signal)
            {
                json.WriteNumber("signal", signal);
            }

            if (e.OomKills is { } kills)
            {
                json.WriteNumber("oomKills", kills);
            }

            json.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>One line back into an event; null for a line this version cannot read (torn, or an action it does not know).</summary>
    internal static ContainerEvent? Parse(ReadOnlySpan<byte> line)
    {
        DateTimeOffset? time = null;
        string? id = null, image = null;
        ContainerEventAction? action = null;
        int? exitCode = null, signal = null;
        long? kills = null;
        try
        {
            var json = new Utf8JsonReader(line);
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                var name = json.GetString();
                json.Read();
                switch (name)
                {
                    case "time":
                        time = json.GetDateTimeOffset();
                        break;
                    case "id":
                        id = json.GetString();
                        break;
                    case "action":
                        action = Action(json.GetString());
                        break;
                    case "image":
                        image = json.GetString();
                        break;
                    case "exitCode":
                        exitCode = json.GetInt32();
                        break;
                    case "signal":
                        signal = json.GetInt32();
                        break;
                    case "oomKills":
                        kills = json.GetInt64();
                        break;
                    default:
                        json.Skip();
                        break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }

        return time is { } t && id is not null && action is { } a
            ? new ContainerEvent(t, id, a) { Image = image, ExitCode = exitCode, Signal = signal, OomKills = kills }
            : null;
    }

    /// <summary>The action's name in the journal and on the command line (Docker's: <c>die</c>, <c>oom</c>, …).</summary>
    public static string Name(ContainerEventAction action) => action switch
    {
        ContainerEventAction.Create => "create",
        ContainerEventAction.Start => "start",
        ContainerEventAction.Pause => "pause",
        ContainerEventAction.Unpause => "unpause",
        ContainerEventAction.Kill => "kill",
        ContainerEventAction.Oom => "oom",
        ContainerEventAction.Die => "die",
        ContainerEventAction.Destroy => "destroy",
        ContainerEventAction.Update => "update",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
    };

    /// <summary>The action named <paramref name="name"/> (as <see cref="Name"/> spells it), or null.</summary>
    public static ContainerEventAction? Action(string? name) => name switch
    {
        "create" => ContainerEventAction.Create,
        "start" => ContainerEventAction.Start,
        "pause" => ContainerEventAction.Pause,
        "unpause" => ContainerEventAction.Unpause,
        "kill" => ContainerEventAction.Kill,
        "oom" => ContainerEventAction.Oom,
        "die" => ContainerEventAction.Die,
        "destroy" => ContainerEventAction.Destroy,
        "update" => ContainerEventAction.Update,
        _ => null,
    };

    /// <summary>One file of the journal, read from where the last read stopped; a line cut by the end of what is written waits for its rest.</summary>
    private sealed class JournalFile : IDisposable
    {
        private readonly SafeFileHandle _file;
        private readonly byte[] _buffer = new byte[64 * 1024];
        private readonly LineSplitter _lines = new();
        private long _offset;

        private JournalFile(SafeFileHandle file)
        {
            _file = file;
            Identity = FileIdentity.Of(file);
        }

        public FileIdentity Identity { get; }

        /// <summary>Opens <paramref name="path"/> without a lock (a lock would hold off the writers' rotation); null when it does not exist.</summary>
        public static JournalFile? Open(string path) =>
            StateDirectory.TryOpenFile(path, ORdOnly | OCloExec) is { } file ? new JournalFile(file) : null;

        public void SkipToEnd() => _offset = RandomAccess.GetLength(_file);

        public List<ContainerEvent> ReadToEnd()
        {
            var events = new List<ContainerEvent>();
            int read;
            while ((read = RandomAccess.Read(_file, _buffer, _offset)) > 0)
            {
                _offset += read;
                _lines.Add(_buffer.AsSpan(0, read), events, static (line, events) =>
                {
                    if (Parse(line) is { } e)
                    {
                        events.Add(e);
                    }
                });
            }

            return events;
        }

        public void Dispose()
        {
            _file.Dispose();
            _lines.Dispose();
        }
    }
}
