using System.Text;
using Containers.Runtime;

namespace Containers.Tests.Runtime;

public sealed class LineSplitterTests
{
    [Fact]
    public void Lines_cut_by_the_ends_of_reads_anywhere_come_out_whole_and_an_unended_one_waits()
    {
        var text = "{\"a\":1}\n\n{\"b\":\"two\"}\n{\"c\":3}\nunended"u8.ToArray();
        for (var cut = 0; cut <= text.Length; cut++)
        {
            using var splitter = new LineSplitter();
            var lines = new List<string>();
            splitter.Add(text.AsSpan(0, cut), lines, static (line, lines) => lines.Add(Encoding.UTF8.GetString(line)));
            splitter.Add(text.AsSpan(cut), lines, static (line, lines) => lines.Add(Encoding.UTF8.GetString(line)));

            Assert.Equal(["{\"a\":1}", "", "{\"b\":\"two\"}", "{\"c\":3}"], lines);

            splitter.Add("\n"u8, lines, static (line, lines) => lines.Add(Encoding.UTF8.GetString(line)));
            Assert.Equal("unended", lines[^1]);
        }
    }
}
