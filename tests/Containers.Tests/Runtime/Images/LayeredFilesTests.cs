using System.Text;
using Containers.Runtime.Images;

namespace Containers.Tests.Runtime.Images;

public sealed class LayeredFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("containers-layers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Layer(string name, params (string Path, string? Content)[] files)
    {
        var layer = Path.Combine(_dir, name);
        Directory.CreateDirectory(layer);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(layer, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            if (content is not null)
            {
                File.WriteAllText(full, content);
            }
            else
            {
                Directory.CreateDirectory(full);
            }
        }

        return layer;
    }

    private static string? Read(LayeredFiles files, string path) =>
        files.ReadFile(path, 1 << 20) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    [Fact]
    public void The_topmost_layer_that_has_a_file_gives_it()
    {
        var bottom = Layer("bottom", ("etc/passwd", "old"), ("etc/group", "groups"));
        var top = Layer("top", ("etc/passwd", "new"));

        var files = new LayeredFiles([top, bottom], "user.overlay.opaque");

        Assert.Equal("new", Read(files, "/etc/passwd"));
        Assert.Equal("groups", Read(files, "etc/group"));
        Assert.Null(Read(files, "/etc/shadow"));
        Assert.Null(Read(files, "/etc"));
    }

    [Fact]
    public void A_link_in_an_upper_layer_is_followed_into_a_lower_one()
    {
        var bottom = Layer("bottom", ("usr/lib/passwd", "from usr"));
        var top = Layer("top", ("etc", null));
        File.CreateSymbolicLink(Path.Combine(top, "etc", "passwd"), "../usr/lib/passwd");

        var files = new LayeredFiles([top, bottom], "user.overlay.opaque");

        Assert.Equal("from usr", Read(files, "/etc/passwd"));
    }

    [Fact]
    public void A_link_to_a_host_path_or_above_the_root_stays_inside_the_image()
    {
        // The host's /etc/passwd exists; the image's root has its own /etc/hostname only under the link's target.
        var layer = Layer("only", ("etc", null), ("inside/etc/hostname", "inside"));
        File.CreateSymbolicLink(Path.Combine(layer, "etc", "passwd"), "/etc/../../../../etc/hostname");
        File.CreateSymbolicLink(Path.Combine(layer, "etc", "group"), "../../../../../../inside/etc/hostname");
        File.CreateSymbolicLink(Path.Combine(layer, "etc", "shadow"), _dir + "/only/inside/etc/hostname");

        var files = new LayeredFiles([layer], "user.overlay.opaque");

        Assert.Null(Read(files, "/etc/passwd")); // /etc/hostname of the image: absent, never the host's
        Assert.Equal("inside", Read(files, "/etc/group"));
        Assert.Null(Read(files, "/etc/shadow")); // the host path, taken inside the image, names nothing
    }

    [Fact]
    public void A_loop_of_links_is_an_error()
    {
        var layer = Layer("loop", ("etc", null));
        File.CreateSymbolicLink(Path.Combine(layer, "etc", "passwd"), "passwd");

        var ex = Assert.Throws<ContainersException>(() => new LayeredFiles([layer], "user.overlay.opaque").ReadFile("/etc/passwd", 100));
        Assert.Contains("too many levels of symbolic links", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_in_an_upper_layer_hides_a_directory_below()
    {
        var bottom = Layer("bottom", ("etc/passwd", "below"));
        var top = Layer("top", ("etc", "a file"));

        Assert.Null(Read(new LayeredFiles([top, bottom], "user.overlay.opaque"), "/etc/passwd"));
    }

    [Fact]
    public void A_file_larger_than_the_limit_is_refused()
    {
        var layer = Layer("big", ("etc/passwd", new string('x', 200)));

        Assert.Throws<ContainersException>(() => new LayeredFiles([layer], "user.overlay.opaque").ReadFile("/etc/passwd", 100));
    }
}
