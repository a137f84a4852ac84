namespace Containers.Runtime;

/// <summary>
/// Cuts the bytes of a JSON-lines file, read a buffer at a time, into its lines: a line cut by the end of one read is
/// kept until the read that brings its newline. Shared by the output log's and the event journal's readers.
/// </summary>
internal sealed class LineSplitter : IDisposable
{
    private readonly MemoryStream _pending = new();

    /// <summary>Adds <paramref name="read"/> and hands each line it completes, without its newline, to <paramref name="line"/>.</summary>
    public void Add<TState>(ReadOnlySpan<byte> read, TState state, Action<ReadOnlySpan<byte>, TState> line)
    {
        int end;
        while ((end = read.IndexOf((byte)'\n')) >= 0)
        {
            if (_pending.Length == 0)
            {
                line(read[..end], state);
            }
            else
            {
                _pending.Write(read[..end]);
                line(_pending.GetBuffer().AsSpan(0, (int)_pending.Length), state);
                _pending.SetLength(0);
            }

            read = read[(end + 1)..];
        }

        _pending.Write(read);
    }

    public void Dispose() => _pending.Dispose();
}
