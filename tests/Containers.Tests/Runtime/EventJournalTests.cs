using System.Buffers;
using Containers.Runtime;

namespace Containers.Tests.Runtime;

public sealed class EventJournalTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("containers-events-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_event_is_written_as_one_line_and_read_back_with_every_field()
    {
        var e = new ContainerEvent(new DateTimeOffset(2026, 5, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567), "web-1", ContainerEventAction.Die)
        {
            Image = "busybox:1.36",
            ExitCode = 3,
            Signal = 9,
            OomKills = 2,
        };
        var buffer = new ArrayBufferWriter<byte>();

        EventJournal.Write(buffer, e);

        var line = buffer.WrittenSpan;
        Assert.Equal((byte)'\n', line[^1]);
        Assert.Equal(-1, line[..^1].IndexOf((byte)'\n'));
        Assert.Equal(e, EventJournal.Parse(line[..^1]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"time\":\"2026-05-01T10:00:00Z\",\"id\":\"a\"")]
    [InlineData("{\"time\":\"2026-05-01T10:00:00Z\",\"id\":\"a\",\"action\":\"explode\"}")]
    [InlineData("{\"id\":\"a\",\"action\":\"die\"}")]
    [InlineData("[1]")]
    public void A_torn_or_unknown_line_reads_as_no_event(string line) =>
        Assert.Null(EventJournal.Parse(System.Text.Encoding.UTF8.GetBytes(line)));

    [Fact]
    public async Task Since_and_until_replay_the_recorded_events_between_them_and_end()
    {
        var journal = new EventJournal(_dir);
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        for (var i = 0; i < 10; i++)
        {
            journal.Append(new ContainerEvent(t0.AddMinutes(i), $"c{i}", ContainerEventAction.Start));
        }

        var read = new List<string>();
        await foreach (var e in journal.ReadAsync(t0.AddMinutes(3), t0.AddMinutes(6), TestContext.Current.CancellationToken))
        {
            read.Add(e.Id);
        }

        Assert.Equal(["c3", "c4", "c5", "c6"], read);
    }

    [Fact]
    public async Task A_follower_gets_every_event_of_concurrent_writers_in_each_writers_order_across_a_rotation()
    {
        // Two writers of 200 lines of about 100 bytes each: the file passes 16 KiB at least once.
        var journal = new EventJournal(_dir, rotateAt: 16 << 10);
        await using var follower = journal.ReadAsync(null, null, TestContext.Current.CancellationToken).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        // The first step opens the journal (none yet) and waits: what comes after is new.
        var first = follower.MoveNextAsync();

        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                journal.Append(new ContainerEvent(DateTimeOffset.UtcNow, $"w{w}-{i}", ContainerEventAction.Start));
            }
        })).ToArray();
        await Task.WhenAll(writers);

        var seen = new List<string>();
        using var patience = new CancellationTokenSource(Patience);
        var next = first;
        while (await next.AsTask().WaitAsync(patience.Token))
        {
            seen.Add(follower.Current.Id);
            if (seen.Count == 400)
            {
                break;
            }

            next = follower.MoveNextAsync();
        }

        Assert.True(File.Exists(journal.Rotated), "the journal was rotated");
        Assert.Equal(400, seen.Count);
        Assert.Equal(400, seen.Distinct().Count());
        foreach (var w in new[] { "w0-", "w1-" })
        {
            Assert.Equal(Enumerable.Range(0, 200).Select(i => w + i), seen.Where(id => id.StartsWith(w, StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task A_follower_one_rotation_behind_reads_the_rotated_file_before_the_new_one()
    {
        var journal = new EventJournal(_dir, rotateAt: 4096);
        journal.Append(new ContainerEvent(DateTimeOffset.UtcNow, "before", ContainerEventAction.Create));
        await using var follower = journal.ReadAsync(null, null, TestContext.Current.CancellationToken).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        var first = follower.MoveNextAsync();

        // Two rotations (each leaves no file at the path until the next line): the file the follower holds, one in
        // between, and the new one; the follower may look at any moment meanwhile.
        var written = new List<string>();
        var rotations = 0;
        while (rotations < 2)
        {
            var id = $"e{written.Count}";
            journal.Append(new ContainerEvent(DateTimeOffset.UtcNow, id, ContainerEventAction.Start));
            written.Add(id);
            rotations += File.Exists(journal.Path) ? 0 : 1;
        }

        journal.Append(new ContainerEvent(DateTimeOffset.UtcNow, "after", ContainerEventAction.Die));
        written.Add("after");

        var seen = new List<string>();
        using var patience = new CancellationTokenSource(Patience);
        var next = first;
        while (await next.AsTask().WaitAsync(patience.Token))
        {
            seen.Add(follower.Current.Id);
            if (seen.Count == written.Count)
            {
                break;
            }

            next = follower.MoveNextAsync();
        }

        Assert.Equal(written, seen);
    }
}
