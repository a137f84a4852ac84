using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Containers.Runtime;

/// <summary>Reads and writes a detached container's JSON-lines output log (see <see cref="ContainerLogRecord"/>).</summary>
internal static class ContainerLog
{
    /// <summary>Appends one record as a single line, so a concurrent reader sees whole records only.</summary>
    /// <param name="log">The log file, opened for appending.</param>
    /// <param name="record">The record to append.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static async Task AppendAsync(Stream log, ContainerLogRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(log);
        var line = JsonSerializer.SerializeToUtf8Bytes(record, RuntimeJsonContext.Default.ContainerLogRecord);
        var buffer = new byte[line.Length + 1];
        line.CopyTo(buffer, 0);
        buffer[^1] = (byte)'\n';
        await log.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        await log.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the records of a log; with <paramref name="follow"/>, keeps waiting for new ones until <paramref name="until"/> completes or the token is cancelled.</summary>
    /// <param name="path">The log file.</param>
    /// <param name="follow">Whether to wait for records written after the current end.</param>
    /// <param name="until">With <paramref name="follow"/>: completes when no more records will come (the container stopped); the remaining ones are still read.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <example>
    /// <code>
    /// await foreach (var record in ContainerLog.ReadAsync(state.LogPath!, follow: false, until: null, ct))
    ///     Console.Write(record.Log);
    /// </code>
    /// </example>
    public static async IAsyncEnumerable<ContainerLogRecord> ReadAsync(
        string path, bool follow, Task? until, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var pending = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            // Sampled before the read: a record written before the container stopped is still read after it stopped.
            var finished = !follow || until is { IsCompleted: true };
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (finished)
                {
                    yield break;
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n')
                {
                    continue;
                }

                pending.Write(buffer, start, i - start);
                start = i + 1;
                var record = JsonSerializer.Deserialize(pending.GetBuffer().AsSpan(0, (int)pending.Length), RuntimeJsonContext.Default.ContainerLogRecord);
                pending.SetLength(0);
                if (record is not null)
                {
                    yield return record;
                }
            }

            pending.Write(buffer, start, read - start);
        }
    }

    internal static ContainerLogRecord Record(OutputStream stream, string text) => new()
    {
        Log = text,
        Stream = stream == OutputStream.Stdout ? "stdout" : "stderr",
        Time = DateTimeOffset.UtcNow,
    };
}
