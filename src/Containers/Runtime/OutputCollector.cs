using System.IO.Pipelines;
using System.Text;

namespace Containers.Runtime;

/// <summary>
/// Reads one output stream to its end into a string, keeping at most a given number of bytes: past the cap it goes
/// on reading and discards, so a chatty program never blocks on a full pipe, and says it truncated. What was read
/// stays available when the reading is stopped early (<see cref="Text"/>).
/// </summary>
internal sealed class OutputCollector
{
    private static readonly Encoding Utf8 = new UTF8Encoding(false);

    private readonly long _maxBytes;
    private readonly StringBuilder _text = new();
    private readonly Decoder _decoder = Utf8.GetDecoder();

    /// <summary>Decoded characters; made with the first output, so a run that prints nothing allocates none.</summary>
    private char[]? _chars;
    private readonly Lock _gate = new();
    private long _kept;
    private bool _flushed;

    public OutputCollector(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        _maxBytes = maxBytes;
    }

    /// <summary>Whether output beyond the cap was discarded.</summary>
    public bool Truncated { get; private set; }

    /// <summary>The text kept so far: all of it once <see cref="ReadToEndAsync(PipeReader, CancellationToken)"/> has ended, by end of file or early.</summary>
    public string Text
    {
        get
        {
            lock (_gate)
            {
                return _text.ToString();
            }
        }
    }

    public static async Task<(string Text, bool Truncated)> ReadToEndAsync(PipeReader reader, long maxBytes, CancellationToken cancellationToken)
    {
        var collector = new OutputCollector(maxBytes);
        await collector.ReadToEndAsync(reader, cancellationToken).ConfigureAwait(false);
        return (collector.Text, collector.Truncated);
    }

    /// <summary>Reads <paramref name="reader"/> until end of file (or until cancelled: what was read is kept).</summary>
    public async Task ReadToEndAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    foreach (var segment in result.Buffer)
                    {
                        Append(segment.Span);
                    }
                }

                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        finally
        {
            Flush();
        }
    }

    /// <summary>Ends the text: a sequence cut by the end of the stream, the cap or an early stop decodes as U+FFFD.</summary>
    private void Flush()
    {
        lock (_gate)
        {
            if (!_flushed)
            {
                _flushed = true;

                // Without any output the decoder holds nothing to end.
                if (_chars is not null)
                {
                    _decoder.Convert([], _chars, flush: true, out _, out var last, out _);
                    _text.Append(_chars, 0, last);
                }
            }
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        var room = _maxBytes - _kept;
        if (bytes.Length > room)
        {
            Truncated = true;
            bytes = bytes[..(int)room];
        }

        _kept += bytes.Length;
        _chars ??= new char[8192];
        while (!bytes.IsEmpty)
        {
            _decoder.Convert(bytes, _chars, flush: false, out var used, out var produced, out _);
            _text.Append(_chars, 0, produced);
            bytes = bytes[used..];
        }
    }
}
