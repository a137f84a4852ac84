using System.Text;
using Containers.Runtime;

namespace Containers.Tests.Runtime;

public sealed class ContainerLogRotationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("containers-log-rotation-").FullName;

    private string LogPath => Path.Combine(_dir, "container.log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_log_written_past_its_cap_keeps_at_most_max_file_files_each_within_the_cap()
    {
        var options = new ContainerLogOptions { MaxSize = 1024, MaxFiles = 3 };
        await WriteLinesAsync(options, 0, 500);

        var files = Directory.GetFiles(_dir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["container.log", "container.log.1", "container.log.2"], files);
        Assert.All(Directory.GetFiles(_dir), f => Assert.InRange(new FileInfo(f).Length, 1, options.MaxSize));
    }

    [Fact]
    public async Task Reading_a_rotated_log_gives_the_newest_records_oldest_first()
    {
        await WriteLinesAsync(new ContainerLogOptions { MaxSize = 1024, MaxFiles = 3 }, 0, 500);

        var lines = await ReadAllAsync(LogPath);

        // Three files of about a dozen records each: the newest records, in order, ending with the last one.
        Assert.InRange(lines.Count, 20, 60);
        Assert.Equal(Enumerable.Range(500 - lines.Count, lines.Count).Select(Line), lines);
    }

    [Fact]
    public async Task With_one_file_the_log_starts_over_when_full()
    {
        var options = new ContainerLogOptions { MaxSize = 1024, MaxFiles = 1 };
        await WriteLinesAsync(options, 0, 100);

        Assert.Equal(["container.log"], Directory.GetFiles(_dir).Select(f => Path.GetFileName(f)));
        Assert.InRange(new FileInfo(LogPath).Length, 1, options.MaxSize);
        var lines = await ReadAllAsync(LogPath);
        Assert.Equal(Enumerable.Range(100 - lines.Count, lines.Count).Select(Line), lines);
    }

    [Fact]
    public async Task A_line_bigger_than_a_file_is_split_into_records_that_each_fit()
    {
        var options = new ContainerLogOptions { MaxSize = 1024, MaxFiles = 100 };
        // Characters that escape to six bytes each, a surrogate pair among them, and plain ASCII.
        var text = string.Concat(Enumerable.Repeat("ab\u0001\u00e9\U0001F600", 400)) + "\n";
        await using (var log = ContainerLogWriter.Open(LogPath, options))
        {
            await log.AppendAsync(OutputStream.Stdout, text, TestContext.Current.CancellationToken);
        }

        Assert.True(Directory.GetFiles(_dir).Length > 1);
        Assert.All(Directory.GetFiles(_dir), f => Assert.InRange(new FileInfo(f).Length, 1, options.MaxSize));
        var parts = await ReadAllAsync(LogPath);
        Assert.Equal(text, string.Concat(parts));
        Assert.All(parts, p => Assert.False(char.IsHighSurrogate(p[^1])));
    }

    [Fact]
    public async Task Following_a_log_continues_across_rotations_without_losing_or_repeating_records()
    {
        var options = new ContainerLogOptions { MaxSize = 1024, MaxFiles = 50 };
        var stopped = new TaskCompletionSource();
        await using (var log = ContainerLogWriter.Open(LogPath, options))
        {
            await log.AppendAsync(OutputStream.Stdout, Line(0), TestContext.Current.CancellationToken);
            var reader = Task.Run(() => ReadAllAsync(LogPath, stopped.Task), TestContext.Current.CancellationToken);
            for (var i = 1; i < 150; i++)
            {
                await log.AppendAsync(i % 2 == 0 ? OutputStream.Stdout : OutputStream.Stderr, Line(i), TestContext.Current.CancellationToken);
                await Task.Delay(i % 10 == 0 ? 120 : 2, TestContext.Current.CancellationToken);
            }

            stopped.SetResult();
            Assert.Equal(Enumerable.Range(0, 150).Select(Line), await reader);
        }

        Assert.True(File.Exists(LogPath + ".10"), "the writer rotated fewer times than the test needs");
    }

    [Fact]
    public void Settings_out_of_range_are_refused_with_what_is_accepted()
    {
        var size = Assert.Throws<InvalidLogOptionsException>(() => new ContainerLogOptions { MaxSize = 100 }.Validate());
        Assert.Contains("at least 1024", size.Message, StringComparison.Ordinal);
        var files = Assert.Throws<InvalidLogOptionsException>(() => new ContainerLogOptions { MaxFiles = 0 }.Validate());
        Assert.Contains("1 or more", files.Message, StringComparison.Ordinal);
    }

    private static string Line(int i) => $"line-{i}\n";

    private async Task WriteLinesAsync(ContainerLogOptions options, int first, int count)
    {
        await using var log = ContainerLogWriter.Open(LogPath, options);
        for (var i = first; i < first + count; i++)
        {
            await log.AppendAsync(OutputStream.Stdout, Line(i), TestContext.Current.CancellationToken);
        }
    }

    private static async Task<List<string>> ReadAllAsync(string path, Task? until = null)
    {
        var lines = new List<string>();
        await foreach (var record in ContainerLog.ReadAsync(path, follow: until is not null, until, TestContext.Current.CancellationToken))
        {
            lines.Add(record.Log);
        }

        return lines;
    }
}
