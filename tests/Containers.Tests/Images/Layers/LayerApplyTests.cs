using System.Formats.Tar;
using Containers.Images.Snapshots;

namespace Containers.Tests.Images.Layers;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LayerApplyTests
{
    [Fact]
    public async Task A_layer_with_files_directories_and_links_is_applied_into_its_snapshot()
    {
        using var fixture = new LayerFixture();
        byte[] tar = LayerFixture.Tar(w =>
        {
            w.WriteEntry(LayerFixture.Dir("etc/"));
            w.WriteEntry(LayerFixture.File("etc/hosts", "127.0.0.1 localhost\n"));
            w.WriteEntry(LayerFixture.HardLink("etc/hosts.allow", "etc/hosts"));
            w.WriteEntry(LayerFixture.Symlink("hosts", "/etc/hosts"));
            w.WriteEntry(LayerFixture.File("usr/local/lib/libnothing.so", "\0\0", (UnixFileMode)0x1ED));
        });

        string snapshot = await fixture.ApplyAsync(tar);

        Assert.Equal(fixture.Store.PathOf(LayerFixture.DiffId(tar)), snapshot);
        Assert.Equal(
            ["etc/", "etc/hosts", "etc/hosts.allow", "hosts", "usr/", "usr/local/", "usr/local/lib/", "usr/local/lib/libnothing.so"],
            LayerFixture.Listing(snapshot));
        Assert.Equal("127.0.0.1 localhost\n", File.ReadAllText(Path.Combine(snapshot, "etc/hosts")));
        Assert.Equal("/etc/hosts", new FileInfo(Path.Combine(snapshot, "hosts")).LinkTarget);
        Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(Path.Combine(snapshot, "usr/local/lib/libnothing.so")));
        Assert.Equal(new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(snapshot, "etc/hosts")));
        Assert.Equal(new DateTime(2021, 1, 1, 0, 0, 0, DateTimeKind.Utc), Directory.GetLastWriteTimeUtc(Path.Combine(snapshot, "etc")));
        Assert.True(fixture.Store.Exists(LayerFixture.DiffId(tar)));
        Assert.Equal([LayerFixture.DiffId(tar)], fixture.Store.List());
    }
}
