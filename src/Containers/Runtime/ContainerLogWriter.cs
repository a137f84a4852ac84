using System.Text.Json;

namespace Containers.Runtime;

/// <summary>
/// Appends records to a kept log and rotates it by <see cref="ContainerLogOptions"/>: before a record that would
/// take the file past <c>MaxSize</c>, <c>PATH.(n-1)</c> is deleted, <c>PATH.k</c> renamed to <c>PATH.(k+1)</c>,
/// <c>PATH</c> to <c>PATH.1</c>, and a new <c>PATH</c> begun (Docker's json-file naming). Renames only, so a reader
/// holding a file keeps reading it, and each file holds whole records.
/// </summary>
internal sealed class ContainerLogWriter : IAsyncDisposable
{
    /// <summary>The bytes a record adds to its text: braces, names, stream and time, with room to spare.</summary>
    private const int RecordOverhead = 128;

    /// <summary>The most bytes one UTF-16 char can take in a record: System.Text.Json escapes non-ASCII as <c>\uXXXX</c>.</summary>
    private const int MaxBytesPerChar = 6;

    private static readonly byte[] Newline = "\n"u8.ToArray();

    private readonly string _path;
    private readonly ContainerLogOptions _options;
    private FileStream _file;
    private long _size;

    private ContainerLogWriter(string path, ContainerLogOptions options, FileStream file)
    {
        _path = path;
        _options = options;
        _file = file;
        _size = file.Length;
    }

    /// <summary>Opens (creating, owner-only) the log at <paramref name="path"/> for appending.</summary>
    public static ContainerLogWriter Open(string path, ContainerLogOptions options) => new(path, options, OpenFile(path));

    /// <summary>
    /// Appends <paramref name="text"/> as one record (several when one would not fit a file), rotating first when
    /// the file is full.
    /// </summary>
    public async Task AppendAsync(OutputStream stream, string text, CancellationToken cancellationToken)
    {
        var line = Serialize(stream, text);
        if (line.Length > _options.MaxSize)
        {
            // A single record bigger than a file: parts small enough to fit whatever their characters escape to.
            var part = (int)Math.Max(1, (_options.MaxSize - RecordOverhead) / MaxBytesPerChar);
            for (var start = 0; start < text.Length;)
            {
                var length = Math.Min(part, text.Length - start);
                if (length < text.Length - start && char.IsHighSurrogate(text[start + length - 1]))
                {
                    length--;
                }

                await WriteAsync(Serialize(stream, text.Substring(start, length)), cancellationToken).ConfigureAwait(false);
                start += length;
            }

            return;
        }

        await WriteAsync(line, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _file.DisposeAsync();

    private static byte[] Serialize(OutputStream stream, string text)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(ContainerLog.Record(stream, text), RuntimeJsonContext.Default.ContainerLogRecord);
        return [.. json, .. Newline];
    }

    private async Task WriteAsync(byte[] line, CancellationToken cancellationToken)
    {
        if (_size > 0 && _size + line.Length > _options.MaxSize)
        {
            await RotateAsync().ConfigureAwait(false);
        }

        // One write per record: a concurrent reader sees whole records or none.
        await _file.WriteAsync(line, cancellationToken).ConfigureAwait(false);
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        _size += line.Length;
    }

    private async Task RotateAsync()
    {
        await _file.DisposeAsync().ConfigureAwait(false);
        var last = _options.MaxFiles - 1;
        if (last == 0)
        {
            File.Delete(_path);
        }
        else
        {
            File.Delete($"{_path}.{last}");
            for (var k = last - 1; k >= 1; k--)
            {
                if (File.Exists($"{_path}.{k}"))
                {
                    File.Move($"{_path}.{k}", $"{_path}.{k + 1}");
                }
            }

            File.Move(_path, $"{_path}.1");
        }

        _file = OpenFile(_path);
        _size = 0;
    }

    private static FileStream OpenFile(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("containers run on Linux only");
        }

        // Owner-only, as the state: a container's output is its owner's to read.
        return new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.ReadWrite | FileShare.Delete,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            BufferSize = 0,
        });
    }
}
