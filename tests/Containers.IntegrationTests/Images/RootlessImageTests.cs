using Containers.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Images;

public sealed class RootlessImageTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task An_unprivileged_user_imports_into_a_private_store_with_files_owned_by_that_user()
    {
        Requires.NotRoot();
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string archive = await ImageFixtures.ToDockerArchiveAsync(layout, _temp.Combine("bb.tar"), "busybox:rootless");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        await store.ImportAsync(archive, tag: null, progress: null, Ct);
        var chain = await store.GetSnapshotChainAsync("busybox:rootless", Ct);

        Assert.True(store.Rootless);
        Assert.Equal("700", (await ImageFixtures.RunAsync("stat", "-c", "%a", store.Root)).Trim());
        string uid = (await ImageFixtures.RunAsync("id", "-u")).Trim();
        string owners = await ImageFixtures.RunAsync("find", chain[^1], "-printf", "%U\n");
        Assert.All(owners.Split('\n', StringSplitOptions.RemoveEmptyEntries), owner => Assert.Equal(uid, owner));
        Assert.Equal(await File.ReadAllBytesAsync("/bin/busybox", Ct), await File.ReadAllBytesAsync(Path.Combine(chain[^1], "bin", "busybox"), Ct));
    }

    [Fact(Timeout = 60_000)]
    public Task The_default_root_of_an_unprivileged_user_is_under_XDG_DATA_HOME()
    {
        Requires.NotRoot();
        string? data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string expected = string.IsNullOrEmpty(data)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "containers-net")
            : Path.Combine(data, "containers-net");

        Assert.Equal(expected, ImageStoreOptions.DefaultRoot);
        return Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public Task The_default_root_of_root_is_var_lib_containers_net()
    {
        Requires.Root();

        Assert.Equal("/var/lib/containers-net", ImageStoreOptions.DefaultRoot);
        return Task.CompletedTask;
    }
}
