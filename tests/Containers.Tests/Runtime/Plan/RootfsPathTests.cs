using Containers.Runtime.Plan;

namespace Containers.Tests.Runtime.Plan;

public sealed class RootfsPathTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("containers-rootfs-unit-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void An_absolute_symlink_resolves_inside_the_root_not_on_the_host()
    {
        Directory.CreateDirectory(Path.Combine(_root, "usr/bin"));
        File.WriteAllText(Path.Combine(_root, "usr/bin/tool"), "");
        Directory.CreateDirectory(Path.Combine(_root, "bin"));
        File.CreateSymbolicLink(Path.Combine(_root, "bin/tool"), "/usr/bin/tool");

        Assert.Equal(Path.Combine(_root, "usr/bin/tool"), RootfsPath.Resolve(HostView.Current, _root, "/bin/tool"));
    }

    [Fact]
    public void Dot_dot_and_links_cannot_climb_out_of_the_root()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "escape"), "../../../../etc/passwd");

        Assert.Null(RootfsPath.Resolve(HostView.Current, _root, "/escape"));
        Assert.Null(RootfsPath.Resolve(HostView.Current, _root, "/../../etc/passwd"));
    }
}
