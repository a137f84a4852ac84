using System.Formats.Tar;
using Containers.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Images;

/// <summary>Archives whose entries try to leave the staging directory or point at host files.</summary>
public sealed class HostileArchiveTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task An_archive_entry_that_climbs_out_is_rejected_and_nothing_is_written_outside()
    {
        string archive = _temp.Combine("inner", "evil.tar");
        Directory.CreateDirectory(_temp.Combine("inner"));
        await WriteTarAsync(archive, ("oci-layout", """{"imageLayoutVersion":"1.0.0"}""", null), ("../../escaped", "x", null));
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var error = await Assert.ThrowsAsync<InvalidImageException>(() => store.ImportAsync(archive, "evil:1", progress: null, Ct));

        Assert.Contains("not a relative path", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_temp.Combine("escaped")));
        Assert.False(File.Exists(Path.Combine(store.Root, "escaped")));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "ingest")), e => !e.EndsWith(".lock", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_blob_that_is_a_symlink_to_a_host_file_is_never_read()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        var index = await File.ReadAllTextAsync(Path.Combine(layout, "index.json"), Ct);
        string manifestHex = System.Text.Json.JsonDocument.Parse(index).RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()![7..];
        string archive = _temp.Combine("link.tar");
        await WriteTarAsync(
            archive,
            ("oci-layout", """{"imageLayoutVersion":"1.0.0"}""", null),
            ("index.json", index, null),
            ($"blobs/sha256/{manifestHex}", string.Empty, "/etc/hostname"));
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var error = await Assert.ThrowsAsync<InvalidImageException>(() => store.ImportAsync(archive, "link:1", progress: null, Ct));

        Assert.Contains("missing from the image source", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_gzip_compressed_docker_archive_imports()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string archive = await ImageFixtures.ToDockerArchiveAsync(layout, _temp.Combine("bb.tar"), "busybox:gz");
        await ImageFixtures.RunAsync("gzip", archive);
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var image = Assert.Single(await store.ImportAsync(archive + ".gz", tag: null, progress: null, Ct));

        Assert.Equal("docker.io/library/busybox:gz", Assert.Single(image.References).ToString());
    }

    private static async Task WriteTarAsync(string path, params (string Name, string Content, string? LinkTarget)[] entries)
    {
        await using var file = File.Create(path);
        await using var writer = new TarWriter(file, TarEntryFormat.Pax);
        foreach (var (name, content, link) in entries)
        {
            var entry = link is null
                ? new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) }
                : new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = link };
            await writer.WriteEntryAsync(entry);
        }
    }
}
