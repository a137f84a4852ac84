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

        foreach (var row in _rows)
        {
            for (var c = 0; c < row.Length - 1; c++)
            {
                output.Write(row[c].PadRight(widths[c] + 3));
            }

            output.WriteLine(row[^1]);
        }
    }
}
