using System.Formats.Tar;
using TarEntryType = System.Formats.Tar.TarEntryType;
using Containers.Images.Layers;
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

    [Fact]
    public async Task A_directory_listed_twice_takes_the_metadata_of_its_last_entry()
    {
        using var fixture = new LayerFixture(rootless: true);
        byte[] tar = LayerFixture.Tar(w =>
        {
            var first = LayerFixture.Dir("d/", (UnixFileMode)0x1FF);
            first.Uid = 1000;
            w.WriteEntry(first);
            w.WriteEntry(LayerFixture.File("d/f", "x"));
            w.WriteEntry(LayerFixture.Dir("d/", (UnixFileMode)0x1E8));
        });

        string snapshot = await fixture.ApplyAsync(tar);

        Assert.Equal((UnixFileMode)0x1E8, File.GetUnixFileMode(Path.Combine(snapshot, "d")));
        Assert.Null(Xattr(Path.Combine(snapshot, "d"), "user.rootlesscontainers"));
        Assert.True(File.Exists(Path.Combine(snapshot, "d/f")));
    }

    [Theory]
    [InlineData(nameof(LayerCompression.Gzip))]
    [InlineData(nameof(LayerCompression.Zstd))]
    public async Task A_compressed_layer_is_verified_against_its_uncompressed_diff_id(string compressionName)
    {
        var compression = Enum.Parse<LayerCompression>(compressionName);
        using var fixture = new LayerFixture();
        byte[] tar = LayerFixture.Tar(w =>
        {
            for (int i = 0; i < 200; i++)
            {
                w.WriteEntry(LayerFixture.File($"d{i % 7}/f{i}", new string((char)('a' + (i % 26)), i * 97)));
            }
        });
        byte[] blob = compression == LayerCompression.Gzip ? LayerFixture.Gzip(tar) : LayerFixture.Zstd(tar);

        string snapshot = await fixture.ApplyAsync(tar, LayerFixture.DiffId(tar), compression, blob);

        Assert.Equal(200, Directory.GetFiles(snapshot, "*", SearchOption.AllDirectories).Length);
        Assert.Equal(new string('d', 3 * 97), File.ReadAllText(Path.Combine(snapshot, "d3/f3")));
    }

    [Fact]
    public async Task A_rootless_store_records_owners_in_user_rootlesscontainers_and_keeps_devices_as_empty_files()
    {
        using var fixture = new LayerFixture(rootless: true);
        byte[] tar = LayerFixture.Tar(w =>
        {
            var owned = LayerFixture.File("owned", "x");
            owned.Uid = 992;
            owned.Gid = 123;
            w.WriteEntry(owned);
            var group = LayerFixture.File("group-only", "x");
            group.Gid = 456;
            w.WriteEntry(group);
            w.WriteEntry(LayerFixture.File("root-owned", "x"));
            w.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, "dev/null") { DeviceMajor = 1, DeviceMinor = 3, Mode = (UnixFileMode)0x1B6 });
            var dir = LayerFixture.Dir("opaque/", (UnixFileMode)0x1C0);
            dir.Uid = 33;
            dir.Gid = 33;
            w.WriteEntry(dir);
            w.WriteEntry(LayerFixture.File("opaque/.wh..wh..opq", string.Empty));
            w.WriteEntry(LayerFixture.File(".wh.removed", string.Empty));
        });

        string snapshot = await fixture.ApplyAsync(tar);

        Assert.Equal(Convert.FromHexString("08e007107b"), Xattr(Path.Combine(snapshot, "owned"), "user.rootlesscontainers"));
        Assert.Equal(Convert.FromHexString("08ffffffff0f10c803"), Xattr(Path.Combine(snapshot, "group-only"), "user.rootlesscontainers"));
        Assert.Null(Xattr(Path.Combine(snapshot, "root-owned"), "user.rootlesscontainers"));
        Assert.Equal((992u, 123u), RootlessOwnership.Decode(Xattr(Path.Combine(snapshot, "owned"), "user.rootlesscontainers")));
        var device = new FileInfo(Path.Combine(snapshot, "dev/null"));
        Assert.True(device.Exists);
        Assert.Equal(0, device.Length);
        Assert.Equal((UnixFileMode)0x1B6, File.GetUnixFileMode(device.FullName));
        Assert.Equal("y"u8.ToArray(), Xattr(Path.Combine(snapshot, "opaque"), "user.overlay.opaque"));
        Assert.Equal(Convert.FromHexString("082110 21".Replace(" ", string.Empty, StringComparison.Ordinal)), Xattr(Path.Combine(snapshot, "opaque"), "user.rootlesscontainers"));
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(Path.Combine(snapshot, "opaque")));
        Assert.Equal("c 0:0", StatType(Path.Combine(snapshot, "removed")));
    }

    internal static byte[]? Xattr(string path, string name)
    {
        byte[] buffer = new byte[256];
        nint length = lgetxattr(path, name, buffer, (nuint)buffer.Length);
        return length < 0 ? null : buffer[..(int)length];
    }

    private static string StatType(string path)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%F %t:%T", path]) { RedirectStandardOutput = true })!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output == "character special file 0:0" ? "c 0:0" : output;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern nint lgetxattr(
        [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path,
        [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string name,
        byte[] value,
        nuint size);
}
