using System.IO.Pipelines;
using System.Text;
using Containers.Runtime;

namespace Containers.Tests.Runtime;

public sealed class OutputCollectorTests
{
    [Fact]
    public async Task Output_up_to_the_cap_is_kept_whole_and_not_marked_truncated()
    {
        var (text, truncated) = await CollectAsync(["héllo ", "wörld"], maxBytes: 13);

        Assert.Equal("héllo wörld", text);
        Assert.False(truncated);
    }

    [Fact]
    public async Task Output_past_the_cap_is_cut_at_the_cap_and_marked_truncated()
    {
        var (text, truncated) = await CollectAsync(["abc", "defgh", "ijk"], maxBytes: 5);

        Assert.Equal("abcde", text);
        Assert.True(truncated);
    }

    [Fact]
    public async Task A_character_split_across_writes_decodes_whole()
    {
        var euro = Encoding.UTF8.GetBytes("€");
        var pipe = new Pipe();
        var reading = OutputCollector.ReadToEndAsync(pipe.Reader, long.MaxValue, TestContext.Current.CancellationToken);
        await pipe.Writer.WriteAsync(euro.AsMemory(0, 1), TestContext.Current.CancellationToken);
        await pipe.Writer.WriteAsync(euro.AsMemory(1), TestContext.Current.CancellationToken);
        await pipe.Writer.CompleteAsync();

        Assert.Equal("€", (await reading).Text);
    }

    [Fact]
    public async Task What_was_read_before_an_early_stop_is_kept()
    {
        // The reader runs inline with the writer's flush, so "partial" has been read when WriteAsync returns.
        var pipe = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var collector = new OutputCollector(long.MaxValue);
        using var stop = new CancellationTokenSource();
        var reading = collector.ReadToEndAsync(pipe.Reader, stop.Token);
        await pipe.Writer.WriteAsync("partial"u8.ToArray(), TestContext.Current.CancellationToken);

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        Assert.Equal("partial", collector.Text);
        Assert.False(collector.Truncated);
    }

    private static async Task<(string Text, bool Truncated)> CollectAsync(string[] writes, long maxBytes)
    {
        var pipe = new Pipe();
        var reading = OutputCollector.ReadToEndAsync(pipe.Reader, maxBytes, TestContext.Current.CancellationToken);
        foreach (var write in writes)
        {
            await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(write), TestContext.Current.CancellationToken);
        }

        await pipe.Writer.CompleteAsync();
        return await reading;
    }
}
