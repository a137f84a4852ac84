using Containers.Runtime;

namespace Containers.Tests.Runtime;

public sealed class ContainerUserTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("containers-user-").FullName;

    private string Rootfs(string passwd, string group)
    {
        var rootfs = Path.Combine(_dir, "rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), passwd);
        File.WriteAllText(Path.Combine(rootfs, "etc", "group"), group);
        return rootfs;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_name_is_looked_up_in_the_containers_passwd_with_its_groups()
    {
        var rootfs = Rootfs("root:x:0:0::/root:/bin/sh\napp:x:1234:2000::/home/app:/bin/sh\n", "app:x:2000:\nvideo:x:44:app,other\naudio:x:29:other\n");

        var user = ContainerUser.Resolve(rootfs, "app");

        Assert.Equal(1234u, user.Uid);
        Assert.Equal(2000u, user.Gid);
        Assert.Equal([44u], user.AdditionalGids);
        Assert.Equal(29u, ContainerUser.Resolve(rootfs, "app:audio").Gid);
        Assert.Equal(7u, ContainerUser.Resolve(rootfs, "app:7").Gid);
    }

    [Fact]
    public void Added_groups_join_the_users_own_once_each_names_from_the_containers_group_file()
    {
        var rootfs = Rootfs("app:x:1234:2000::/home/app:/bin/sh\n", "app:x:2000:\nvideo:x:44:app\naudio:x:29:\n");
        var user = ContainerUser.Resolve(rootfs, "app");

        var added = ContainerUser.AddGroups(rootfs, user, ["audio", "44", "5000"]);

        Assert.Equal([44u, 29u, 5000u], added.AdditionalGids);
        Assert.Equal((1234u, 2000u), (added.Uid, added.Gid));
        Assert.Contains("'nosuch' is not in the container's /etc/group", Assert.Throws<ContainersException>(() => ContainerUser.AddGroups(rootfs, user, ["nosuch"])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Numeric_ids_are_never_looked_up()
    {
        var rootfs = Rootfs("daemon:x:1:1::/:/bin/sh\n", "daemon:x:1:\n");

        var user = ContainerUser.Resolve(rootfs, "1");

        Assert.Equal(1u, user.Uid);
        Assert.Equal(0u, user.Gid);
        Assert.Empty(user.AdditionalGids);
        Assert.Equal(5u, ContainerUser.Resolve(rootfs, "1:5").Gid);
    }

    [Fact]
    public void A_name_missing_from_the_containers_files_is_an_error_that_says_so()
    {
        var rootfs = Rootfs("root:x:0:0::/root:/bin/sh\n", "root:x:0:\n");

        var ex = Assert.Throws<ContainersException>(() => ContainerUser.Resolve(rootfs, "nobody"));
        Assert.Contains("'nobody' is not in the container's /etc/passwd", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ContainersException>(() => ContainerUser.Resolve(rootfs, "root:wheel"));
    }

    [Fact]
    public void A_symlink_out_of_the_root_is_resolved_inside_it()
    {
        // /etc -> ../../outside, whose passwd lists a user: inside the root ".." stops at the root, so it is not found.
        var outside = Path.Combine(_dir, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "passwd"), "escaped:x:4242:4242::/:/bin/sh\n");
        var rootfs = Path.Combine(_dir, "rootfs");
        Directory.CreateDirectory(rootfs);
        File.CreateSymbolicLink(Path.Combine(rootfs, "etc"), "../../outside");

        Assert.Throws<ContainersException>(() => ContainerUser.Resolve(rootfs, "escaped"));

        // An absolute link resolves inside the root too.
        File.Delete(Path.Combine(rootfs, "etc"));
        File.CreateSymbolicLink(Path.Combine(rootfs, "etc"), outside);
        Assert.Throws<ContainersException>(() => ContainerUser.Resolve(rootfs, "escaped"));
    }
}
