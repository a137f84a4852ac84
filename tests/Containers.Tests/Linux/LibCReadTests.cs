using Containers.Linux;

namespace Containers.Tests.Linux;

public sealed class LibCReadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("libc-read-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(100_000)]
    public void TryReadBytes_returns_the_whole_file_whatever_its_size(int size)
    {
        var content = new byte[size];
        new Random(size).NextBytes(content);
        var path = Path.Combine(_dir, "file");
        File.WriteAllBytes(path, content);

        Assert.Equal(content, LibC.TryReadBytes(path));
    }

    [Fact]
    public void TryReadBytes_returns_null_for_a_missing_file_and_for_a_path_through_a_file()
    {
        var file = Path.Combine(_dir, "file");
        File.WriteAllText(file, "x");

        Assert.Null(LibC.TryReadBytes(Path.Combine(_dir, "missing")));
        Assert.Null(LibC.TryReadBytes(Path.Combine(_dir, "missing-folder", "state.json")));
        Assert.Null(LibC.TryReadBytes(Path.Combine(file, "state.json")));
    }

    [Fact]
    public void TryReadBytes_of_a_directory_fails_with_the_errno_of_the_read()
    {
        var e = Assert.Throws<IOException>(() => LibC.TryReadBytes(_dir));
        Assert.Contains("EISDIR", e.Message, StringComparison.Ordinal);
        Assert.Contains(_dir, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReadText_reads_the_same_bytes_as_text()
    {
        var path = Path.Combine(_dir, "text");
        File.WriteAllText(path, "cache 1\nrss 2\n");

        Assert.Equal("cache 1\nrss 2\n", LibC.TryReadText(path));
        Assert.Null(LibC.TryReadText(Path.Combine(_dir, "missing")));
    }
}
