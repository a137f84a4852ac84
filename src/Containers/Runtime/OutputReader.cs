using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;

namespace Containers.Runtime;

/// <summary>Turns a container's output pipes into lines or whole strings, always draining both streams at once so a chatty stream never blocks the other.</summary>
internal static class OutputReader
{
    private static readonly Encoding Utf8 = new UTF8Encoding(false);

    public static async IAsyncEnumerable<OutputLine> ReadLinesAsync(
        PipeReader stdout, PipeReader stderr, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var lines = Channel.CreateBounded<OutputLine>(new BoundedChannelOptions(1024) { SingleReader = true });
        var pumps = Task.WhenAll(
            PumpAsync(stdout, OutputStream.Stdout, lines.Writer, cancellationToken),
            PumpAsync(stderr, OutputStream.Stderr, lines.Writer, cancellationToken));
        _ = pumps.ContinueWith(t => lines.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);
        await foreach (var line in lines.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return line;
        }
    }

    /// <summary>Calls <paramref name="onLine"/> for each line of <paramref name="reader"/> (the last one even without a newline) until end of file.</summary>
    public static async Task ForEachLineAsync(PipeReader reader, Func<string, bool, ValueTask> onLine, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            while (buffer.PositionOf((byte)'\n') is { } newline)
            {
                await onLine(Utf8.GetString(buffer.Slice(0, newline)), true).ConfigureAwait(false);
                buffer = buffer.Slice(buffer.GetPosition(1, newline));
            }

            if (result.IsCompleted)
            {
                if (!buffer.IsEmpty)
                {
                    await onLine(Utf8.GetString(buffer), false).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                return;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static Task PumpAsync(PipeReader reader, OutputStream stream, ChannelWriter<OutputLine> lines, CancellationToken cancellationToken) =>
        ForEachLineAsync(reader, (text, _) => lines.WriteAsync(new OutputLine(stream, text), cancellationToken), cancellationToken);
}
