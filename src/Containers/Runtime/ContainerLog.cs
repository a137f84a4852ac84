using System.Runtime.CompilerServices;
using System.Text.Json;
using Containers.Linux;

namespace Containers.Runtime;

/// <summary>
/// Reads a detached container's JSON-lines output log (see <see cref="ContainerLogRecord"/>) across the files
/// <see cref="ContainerLogWriter"/> rotates it into: <c>PATH.(n-1)</c> … <c>PATH.1</c>, then <c>PATH</c>.
/// </summary>
internal static class ContainerLog
{
    /// <summary>
    /// Reads the records of a log, oldest first; with <paramref name="follow"/>, keeps waiting for new ones (also
    /// after the log was rotated) until <paramref name="until"/> completes or the token is cancelled.
    /// </summary>
    /// <param name="path">The log file being written (the rotated ones are beside it).</param>
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
        var files = OpenFiles(path, after: null);
        if (files.Count == 0)
        {
            throw new FileNotFoundException($"the log {path} does not exist", path);
        }

        try
        {
            // Every file but the newest is complete: rotation only renames a file once the writer has left it.
            while (files.Count > 1)
            {
                await foreach (var record in files[0].ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return record;
                }

                files[0].Dispose();
                files.RemoveAt(0);
            }

            var current = files[0];
            while (true)
            {
                // Sampled before the read: a record written before the container stopped is still read after it stopped.
                var finished = !follow || until is { IsCompleted: true };
                await foreach (var record in current.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return record;
                }

                if (!follow)
                {
                    yield break;
                }

                // Rotated: the file read so far is complete once the path names another one (while the path names
                // none, the writer is between its rename and its new file: look again later).
                if (FileIdentity.OfPath(path) is { } now && now != current.Identity)
                {
                    await foreach (var record in current.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        yield return record;
                    }

                    var newer = OpenFiles(path, after: current.Identity);
                    if (newer.Count > 0)
                    {
                        current.Dispose();
                        files.Clear();
                        files.AddRange(newer);
                        while (files.Count > 1)
                        {
                            await foreach (var record in files[0].ReadAsync(cancellationToken).ConfigureAwait(false))
                            {
                                yield return record;
                            }

                            files[0].Dispose();
                            files.RemoveAt(0);
                        }

                        current = files[0];
                        continue;
                    }
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
            foreach (var file in files)
            {
                file.Dispose();
            }
        }
    }

    internal static ContainerLogRecord Record(OutputStream stream, string text) => new()
    {
        Log = text,
        Stream = stream == OutputStream.Stdout ? "stdout" : "stderr",
        Time = DateTimeOffset.UtcNow,
    };

    /// <summary>
    /// Opens the log's files newer than <paramref name="after"/> (all when null), oldest first. They are opened newest
    /// first, <c>PATH</c>, <c>PATH.1</c>, <c>PATH.2</c>… until a name is missing or is <paramref name="after"/>: a
    /// rotation in between moves a file already open to the next name, where it is recognised and skipped, so no
    /// file is missed or read twice.
    /// </summary>
    private static List<LogFile> OpenFiles(string path, FileIdentity? after)
    {
        var files = new List<LogFile>();
        try
        {
            for (var k = 0; ; k++)
            {
                var name = k == 0 ? path : $"{path}.{k}";
                FileStream stream;
                try
                {
                    stream = new FileStream(name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (FileNotFoundException)
                {
                    if (k == 0)
                    {
                        // Between the writer's rename and its new file: the rotated ones are still there.
                        continue;
                    }

                    break;
                }

                var identity = FileIdentity.Of(stream.SafeFileHandle);
                if (identity == after || files.Exists(f => f.Identity == identity))
                {
                    stream.Dispose();
                    if (identity == after)
                    {
                        break;
                    }

                    continue;
                }

                files.Add(new LogFile(stream, identity));
            }
        }
        catch
        {
            foreach (var file in files)
            {
                file.Dispose();
            }

            throw;
        }

        files.Reverse();
        return files;
    }

    /// <summary>One file of a log, read a buffer at a time; a record cut by the end of what is written so far waits for its rest.</summary>
    private sealed class LogFile(FileStream stream, FileIdentity identity) : IDisposable
    {
        private readonly LineSplitter _lines = new();
        private readonly byte[] _buffer = new byte[64 * 1024];

        public FileIdentity Identity { get; } = identity;

        /// <summary>The whole records from where the last call stopped to the current end of the file.</summary>
        public async IAsyncEnumerable<ContainerLogRecord> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var records = new List<ContainerLogRecord>();
            int read;
            while ((read = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                _lines.Add(_buffer.AsSpan(0, read), records, static (line, records) =>
                {
                    if (JsonSerializer.Deserialize(line, RuntimeJsonContext.Default.ContainerLogRecord) is { } record)
                    {
                        records.Add(record);
                    }
                });
                foreach (var record in records)
                {
                    yield return record;
                }

                records.Clear();
            }
        }

        public void Dispose()
        {
            stream.Dispose();
            _lines.Dispose();
        }
    }
}
