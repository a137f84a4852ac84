using System.Text;
using Containers.Runtime;

namespace Containers.IntegrationTests.Runtime;

/// <summary>Reads what a container's terminal shows until its last writer closes it.</summary>
internal static class TerminalOutput
{
    public static async Task<string> ReadToEndAsync(ContainerTerminal terminal)
    {
        var output = new StringBuilder();
        while (true)
        {
            var read = await terminal.Output.ReadAsync(TestContext.Current.CancellationToken);
            foreach (var segment in read.Buffer)
            {
                output.Append(Encoding.UTF8.GetString(segment.Span));
            }

            terminal.Output.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return output.ToString();
            }
        }
    }
}
