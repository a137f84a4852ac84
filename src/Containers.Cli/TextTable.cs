namespace Containers.Cli;

/// <summary>A table as Docker prints them: a header row, columns padded to their widest cell plus three spaces.</summary>
internal sealed class TextTable(params string[] header)
{
    private readonly List<string[]> _rows = [header];

    public void Add(params string[] cells) => _rows.Add(cells);

    public void WriteTo(TextWriter output)
    {
        var widths = new int[_rows[0].Length];
        foreach (var row in _rows)
        {
            for (var c = 0; c < row.Length; c++)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }

        // One write for the whole table: the standard writers flush at every write, one system call each.
        var text = new System.Text.StringBuilder();
        foreach (var row in _rows)
        {
            for (var c = 0; c < row.Length - 1; c++)
            {
                text.Append(row[c]).Append(' ', widths[c] + 3 - row[c].Length);
            }

            text.Append(row[^1]).Append('\n');
        }

        output.Write(text.ToString());
    }
}
