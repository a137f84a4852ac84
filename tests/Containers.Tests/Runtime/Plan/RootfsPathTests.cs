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

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void The_host_view_tells_directories_links_and_files_with_their_mode_apart_without_following_the_last_link()
    {
        var script = Path.Combine(_root, "script");
        File.WriteAllText(script, "");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.CreateSymbolicLink(Path.Combine(_root, "link"), "script");

        Assert.Equal(HostFileKind.Directory, HostView.Current.Inspect(_root)?.Kind);
        Assert.Equal(HostFile.Link("script"), HostView.Current.Inspect(Path.Combine(_root, "link")));
        Assert.Equal(HostFile.File(UnixFileMode.UserRead | UnixFileMode.UserWrite), HostView.Current.Inspect(script));
        Assert.False(HostView.Current.Inspect(script)!.IsExecutable);
        Assert.Null(HostView.Current.Inspect(Path.Combine(_root, "missing")));
    }
}
