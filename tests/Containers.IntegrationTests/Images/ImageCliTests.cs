using System.Diagnostics;
using System.Formats.Tar;
using System.Text.Json;
using Containers.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Images;

/// <summary>The image commands of the <c>containers</c> CLI, run as separate processes against a temp store.</summary>
public sealed class ImageCliTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Store => _temp.Combine("store");

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 120_000)]
    public async Task The_image_commands_import_list_inspect_tag_export_and_remove()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();

        var import = await CliAsync("import", layout, "--tag", "busybox:cli");
        string digest = import.Stdout.Trim();
        var images = await CliAsync("images");
        var formatted = await CliAsync("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}");
        var json = await CliAsync("images", "--format", "json");
        var inspect = await CliAsync("image", "inspect", "busybox:cli");
        var tag = await CliAsync("tag", digest[7..19], "example.com/bb:2");
        var export = await CliAsync("export", "example.com/bb:2", _temp.Combine("bb.tar"), "--format", "docker-archive");
        var quietImport = await CliAsync("import", "-q", layout, "--tag", "busybox:quiet");
        var quietExport = await CliAsync("export", "-q", "example.com/bb:2", _temp.Combine("bb-quiet.tar"));
        var rmi = await CliAsync("rmi", "busybox:cli");
        var afterRmi = await CliAsync("images");

        Assert.True(Digest.TryParse(digest, out _), $"import prints the digest, got '{import.Stdout}'");
        Assert.Matches(@"^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n", images.Stdout);
        Assert.Matches($@"\nbusybox\s+cli\s+{digest[7..19]}\s+.+ago\s+1\.\d+MB\n", images.Stdout);
        Assert.Equal($"busybox:cli {digest[7..19]} {digest}\n", formatted.Stdout);
        using (var row = JsonDocument.Parse(json.Stdout))
        {
            Assert.Equal(digest[7..19], row.RootElement.GetProperty("ID").GetString());
            Assert.Matches(@"^1\.\d+MB$", row.RootElement.GetProperty("Size").GetString());
            Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$", row.RootElement.GetProperty("CreatedAt").GetString());
            Assert.Equal("N/A", row.RootElement.GetProperty("Containers").GetString());
        }

        var document = JsonDocument.Parse(inspect.Stdout).RootElement;
        Assert.Equal(digest, document.GetProperty("Digest").GetString());
        Assert.Equal("sh", document.GetProperty("Config").GetProperty("config").GetProperty("Cmd")[0].GetString());
        Assert.Equal(0, tag.Exit);
        Assert.Equal(0, export.Exit);
        // Progress goes to stderr as plain lines when it is not a terminal, and nowhere with -q.
        Assert.NotEqual("", import.Stderr);
        Assert.NotEqual("", export.Stderr);
        Assert.Equal(digest + "\n", quietImport.Stdout);
        Assert.Equal("", quietImport.Stderr);
        Assert.Equal("", quietExport.Stderr);
        Assert.Contains("example.com/bb:2", await ImageFixtures.RunAsync("tar", "-xOf", _temp.Combine("bb.tar"), "manifest.json"), StringComparison.Ordinal);
        Assert.Equal("Untagged: busybox:cli", rmi.Stdout.Trim());
        Assert.DoesNotMatch(@"\nbusybox\s+cli\s", afterRmi.Stdout);
        Assert.Matches(@"\nexample\.com/bb\s+2\s", afterRmi.Stdout);
    }

    [Fact(Timeout = 120_000)]
    public async Task Errors_print_one_line_and_exit_125()
    {
        var missing = await CliAsync(expectSuccess: false, "image", "inspect", "nope:1");
        var badTag = await CliAsync(expectSuccess: false, "import", _temp.Path, "--tag", "Upper/Case");
        var notAnImage = await CliAsync(expectSuccess: false, "import", _temp.Path);

        Assert.Equal(125, missing.Exit);
        Assert.Equal("containers: image 'nope:1' not found in the store: list images with 'containers images', or pull or import it first", missing.Stderr.Trim());
        Assert.Equal(125, badTag.Exit);
        Assert.Contains("lowercase", badTag.Stderr, StringComparison.Ordinal);
        Assert.Equal(125, notAnImage.Exit);
        Assert.Contains("not an OCI image layout", notAnImage.Stderr, StringComparison.Ordinal);
        Assert.All(new[] { missing, badTag, notAnImage }, r => Assert.Single(r.Stderr.Trim().Split('\n')));
    }

    [Fact(Timeout = 120_000)]
    public async Task Two_processes_importing_one_image_at_once_both_succeed_and_store_it_once()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string archive = await ImageFixtures.ToDockerArchiveAsync(layout, _temp.Combine("bb.tar"), "busybox:twice");
        await CliAsync("images");

        var results = await Task.WhenAll(CliAsync("import", archive), CliAsync("import", archive), CliAsync("import", layout, "--tag", "busybox:layout"));

        Assert.Equal(results[0].Stdout, results[1].Stdout);
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Store }, Ct);
        var images = await store.ListAsync(Ct);
        Assert.Equal(2, images.Count);
        Assert.Equal(results[0].Stdout.Trim(), Assert.Single(images, i => i.References.Any(r => r.Tag == "twice")).Digest.ToString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Store, "ingest")));
        await ImageFixtures.RunAsync(Requires.Tool("skopeo"), "inspect", $"oci:{Store}:docker.io/library/busybox:twice");
        foreach (var image in images)
        {
            var chain = await store.GetSnapshotChainAsync(image.Digest.ToString(), Ct);
            Assert.True(File.Exists(Path.Combine(chain[0], "etc", "hello")));
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task A_process_killed_mid_import_leaves_a_store_that_reopens_clean()
    {
        string archive = await ImageFixtures.RandomDockerArchiveAsync(_temp.Path, 48, "random:killed");
        await CliAsync("images");
        string indexBefore = await File.ReadAllTextAsync(Path.Combine(Store, "index.json"), Ct);
        int killedWithLeftovers = 0;
        foreach (int delay in new[] { 0, 40, 150 })
        {
            using var process = Start("import", archive);
            string ingest = Path.Combine(Store, "ingest");
            while (!process.HasExited && !Directory.EnumerateFileSystemEntries(ingest).Any(e => !e.EndsWith(".lock", StringComparison.Ordinal)))
            {
                await Task.Delay(1, Ct);
            }

            await Task.Delay(delay, Ct);
            if (!process.HasExited)
            {
                process.Kill();
                killedWithLeftovers++;
            }

            await process.WaitForExitAsync(Ct);
            await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Store }, Ct);
            Assert.Empty(Directory.EnumerateFileSystemEntries(ingest));
            Assert.DoesNotContain(Directory.EnumerateDirectories(Path.Combine(Store, "snapshots")), d => Path.GetFileName(d).StartsWith("tmp", StringComparison.Ordinal));
            foreach (var image in await store.ListAsync(Ct))
            {
                Assert.All(await store.GetSnapshotChainAsync(image.Digest.ToString(), Ct), d => Assert.True(File.Exists(Path.Combine(d, "data", "random.bin"))));
            }

            if (!(await store.ListAsync(Ct)).Any())
            {
                Assert.Equal(indexBefore, await File.ReadAllTextAsync(Path.Combine(Store, "index.json"), Ct));
            }

            await store.PruneAsync(Ct);
        }

        Assert.True(killedWithLeftovers > 0, "at least one import was killed while ingesting");
        var import = await CliAsync("import", archive);
        Assert.True(Digest.TryParse(import.Stdout.Trim(), out _));
    }

    [Fact(Timeout = 120_000)]
    public async Task Malformed_sources_print_one_escaped_line_without_a_stack_trace_and_leave_the_store_usable()
    {
        string fifo = _temp.Combine("fifo.tar");
        await ImageFixtures.RunAsync("mkfifo", fifo);
        string control = WriteTar("control.tar", ("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray(), TarEntryType.RegularFile), ("evil\u001b]0;owned\u0007", [], TarEntryType.Fifo));
        string nulls = WriteTar("nulls.tar", ("manifest.json", "[{\"Config\":null,\"RepoTags\":[null],\"Layers\":[null]}]"u8.ToArray(), TarEntryType.RegularFile));
        byte[] gzip = System.IO.File.ReadAllBytes(WriteTar("gzip.tar", ("oci-layout", new byte[4096], TarEntryType.RegularFile)));
        string corrupt = _temp.Combine("corrupt.tar.gz");
        using (var output = System.IO.File.Create(corrupt))
        using (var compress = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest))
        {
            compress.Write(gzip);
        }

        byte[] damaged = System.IO.File.ReadAllBytes(corrupt);
        for (int i = 20; i < damaged.Length - 20; i++)
        {
            damaged[i] ^= 0x33;
        }

        System.IO.File.WriteAllBytes(corrupt, damaged);

        var results = new List<(int Exit, string Stdout, string Stderr)>();
        foreach (string source in new[] { fifo, control, nulls, corrupt })
        {
            results.Add(await CliAsync(expectSuccess: false, "import", source));
        }

        var images = await CliAsync("images");
        Assert.All(results, r =>
        {
            Assert.Equal(125, r.Exit);
            string error = Assert.Single(r.Stderr.Trim().Split('\n'), line => line.StartsWith("containers: ", StringComparison.Ordinal));
            Assert.EndsWith(error, r.Stderr.Trim(), StringComparison.Ordinal);
            Assert.DoesNotContain(r.Stderr.Trim(), c => char.IsControl(c) && c != '\n');
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
        });
        Assert.Contains("FIFO", results[0].Stderr, StringComparison.Ordinal);
        Assert.Contains("evil\\x1b]0;owned\\x07", results[1].Stderr, StringComparison.Ordinal);
        Assert.Equal(0, images.Exit);
    }

    private string WriteTar(string name, params (string Name, byte[] Data, TarEntryType Type)[] entries)
    {
        string path = _temp.Combine(name);
        using var file = System.IO.File.Create(path);
        using var writer = new TarWriter(file, TarEntryFormat.Pax);
        foreach (var (entryName, data, type) in entries)
        {
            var entry = new PaxTarEntry(type, entryName);
            if (type == TarEntryType.RegularFile)
            {
                entry.DataStream = new MemoryStream(data);
            }

            writer.WriteEntry(entry);
        }

        return path;
    }

    private Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Containers.Cli"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.ArgumentList.Add("--root");
        info.ArgumentList.Add(Store);
        return Process.Start(info)!;
    }

    private Task<(int Exit, string Stdout, string Stderr)> CliAsync(params string[] arguments) => CliAsync(true, arguments);

    private async Task<(int Exit, string Stdout, string Stderr)> CliAsync(bool expectSuccess, params string[] arguments)
    {
        using var process = Start(arguments);
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        var result = (process.ExitCode, await stdout, await stderr);
        if (expectSuccess)
        {
            Assert.True(result.ExitCode == 0, $"containers {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Item3}");
        }

        return result;
    }
}
