using System.IO.Pipes;
using System.Text;
using Containers.Cli;

namespace Containers.Tests.Cli;

/// <summary>The command line's stdout and stderr writers: UTF-8 bytes as written, and a reader that left is no error.</summary>
public sealed class StandardOutputTests
{
    [Fact]
    public async Task Text_arrives_as_utf8_without_a_byte_order_mark()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var reader = new AnonymousPipeClientStream(PipeDirection.In, pipe.ClientSafePipeHandle);
        using var writer = StandardOutput.Writer((int)pipe.SafePipeHandle.DangerousGetHandle());

        writer.Write("CONTAINER ID\t\"sh -c echo out; ech…\"\n");
        pipe.Dispose();

        using var read = new MemoryStream();
        await reader.CopyToAsync(read, TestContext.Current.CancellationToken);
        Assert.Equal(Encoding.UTF8.GetBytes("CONTAINER ID\t\"sh -c echo out; ech…\"\n"), read.ToArray());
    }

    [Fact]
    public void A_reader_that_went_away_drops_the_rest_without_an_error()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        pipe.DisposeLocalCopyOfClientHandle();
        using var writer = StandardOutput.Writer((int)pipe.SafePipeHandle.DangerousGetHandle());

        // EPIPE (.NET ignores SIGPIPE): as `containers ps | head -1` once head has exited.
        writer.Write(new string('x', 100_000));
        writer.WriteLine("more");
    }
}
