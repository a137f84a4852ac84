using System.Text.Json;
using Containers.Distribution;
using Containers.Images;
using Containers.Images.Model;
using Containers.IntegrationTests.Cli;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>Pull and push against a real registry without auth, checked by skopeo in both directions.</summary>
public sealed class RegistryPullPushTests : RegistryTestBase
{

    [Fact(Timeout = 120_000)]
    public async Task An_image_I_push_is_read_back_by_skopeo_with_the_same_digest()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string name = $"{Registry.Host}/tools/busybox:1.0";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        var imported = Assert.Single(await store.ImportAsync(layout, name, progress: null, Ct));
        using var client = new RegistryClient();

        var reports = new List<TransferProgress>();
        var pushed = await client.PushAsync(store, name, destination: null, new LockedProgress<TransferProgress>(reports), Ct);

        Assert.Equal(imported.Digest, pushed);
        string inspect = await ImageFixtures.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{name}");
        using (var json = JsonDocument.Parse(inspect))
        {
            Assert.Equal(pushed.ToString(), json.RootElement.GetProperty("Digest").GetString());
            Assert.Equal(2, json.RootElement.GetProperty("Layers").GetArrayLength());
        }

        string copy = Temp.Combine("copy");
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--src-tls-verify=false", $"docker://{name}", $"oci:{copy}:x");
        Assert.Contains(pushed.Hex, await File.ReadAllTextAsync(Path.Combine(copy, "index.json"), Ct), StringComparison.Ordinal);
        var total = imported.Manifest.Layers.Sum(l => l.Size) + imported.Manifest.Config.Size;
        Assert.Contains(reports, r => r.Phase == TransferPhase.Uploading && r.TransferredBytes == total && r.TotalBytes == total);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_image_skopeo_pushes_is_pulled_verified_and_unpacked_into_snapshots()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string name = $"{Registry.Host}/library/busybox:stable";
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{name}");
        string digest = JsonDocument.Parse(await ImageFixtures.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{name}")).RootElement.GetProperty("Digest").GetString()!;
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        using var client = new RegistryClient();

        var image = await client.PullAsync(store, name, progress: null, Ct);

        Assert.Equal(digest, image.Digest.ToString());
        Assert.Equal(name, Assert.Single(image.References).ToString());
        var chain = await store.GetSnapshotChainAsync(name, Ct);
        Assert.Equal(2, chain.Count);
        Assert.True(File.Exists(Path.Combine(chain[0], "etc", "hello")));
        Assert.Equal(new FileInfo("/bin/busybox").Length, new FileInfo(Path.Combine(chain[1], "bin", "busybox")).Length);
        foreach (var layer in image.Manifest.Layers)
        {
            Assert.True(File.Exists(Path.Combine(store.Root, "blobs", "sha256", layer.Digest.Hex)), $"layer blob {layer.Digest} is stored");
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Root, "ingest"), "*.download"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Two_versions_pushed_under_two_tags_are_pulled_back_exactly_by_tag_and_by_digest()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await using var source = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("source") }, Ct);
        string v1 = $"{Registry.Host}/myapp:1.0";
        string v2 = $"{Registry.Host}/myapp:1.1";
        var first = Assert.Single(await source.ImportAsync(layout, v1, progress: null, Ct));
        string modified = ImageFixtures.CopyDirectory(layout, Temp.Combine("modified"));
        await ImageFixtures.RunAsync("umoci", "config", "--image", $"{modified}:{ImageFixtures.Tag}", "--config.env", "VERSION=1.1");
        var second = Assert.Single(await source.ImportAsync(modified, v2, progress: null, Ct));
        Assert.NotEqual(first.Digest, second.Digest);
        using var client = new RegistryClient();
        await client.PushAsync(source, v1, null, null, Ct);
        await client.PushAsync(source, v2, null, null, Ct);

        await using var production = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("production") }, Ct);
        var pulled1 = await client.PullAsync(production, v1, null, Ct);
        var pulled2 = await client.PullAsync(production, v2, null, Ct);
        var pinned = await client.PullAsync(production, $"{Registry.Host}/myapp@{first.Digest}", null, Ct);

        Assert.Equal(first.Digest, pulled1.Digest);
        Assert.Equal(second.Digest, pulled2.Digest);
        Assert.Equal(first.Digest, pinned.Digest);
        Assert.Contains("VERSION=1.1", pulled2.Config.Config?.Env ?? []);
        Assert.Equal(first.Digest, (await client.ResolveAsync(v1, null, Ct)).Descriptor.Digest);
    }

    [Fact(Timeout = 120_000)]
    public async Task Two_pulls_of_one_image_into_one_store_download_each_blob_once()
    {
        string directory = Temp.Combine("random");
        Directory.CreateDirectory(directory);
        string archive = await ImageFixtures.RandomDockerArchiveAsync(directory, 16, "random:1");
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"docker-archive:{archive}", $"docker://{Registry.Host}/shared:1");
        await using var proxy = new RegistryProxy(Registry.Host);
        string name = $"{proxy.Host}/shared:1";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        await using var sameStore = await ImageStore.OpenAsync(new ImageStoreOptions { Root = store.Root }, Ct);
        using var first = new RegistryClient();
        using var second = new RegistryClient();

        var images = await Task.WhenAll(first.PullAsync(store, name, null, Ct), second.PullAsync(sameStore, name, null, Ct));

        Assert.Equal(images[0].Digest, images[1].Digest);
        var layer = Assert.Single(images[0].Manifest.Layers);
        Assert.Single(proxy.Requests, r => r.Method == "GET" && r.Path.EndsWith($"/blobs/{layer.Digest}", StringComparison.Ordinal));
        Assert.Single(await store.ListAsync(Ct));
    }

    [Fact(Timeout = 120_000)]
    public async Task From_a_multi_platform_index_the_requested_platform_is_pulled_and_a_missing_one_lists_the_offered()
    {
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string arm = ImageFixtures.CopyDirectory(layout, Temp.Combine("arm64"));
        await ImageFixtures.RunAsync("umoci", "config", "--image", $"{arm}:{ImageFixtures.Tag}", "--architecture", "arm64");
        var amd64 = await PushForIndexAsync(layout, "amd64");
        var arm64 = await PushForIndexAsync(arm, "arm64");
        Assert.NotEqual(amd64.Digest, arm64.Digest);
        string index = $$$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{amd64.Digest}}}","size":{{{amd64.Size}}},"platform":{"os":"linux","architecture":"amd64"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{arm64.Digest}}}","size":{{{arm64.Size}}},"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}
            """;
        using (var http = new HttpClient())
        {
            using var content = new StringContent(index);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.oci.image.index.v1+json");
            using var put = await http.PutAsync($"http://{Registry.Host}/v2/multi/manifests/1", content, Ct);
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(Ct));
        }

        string name = $"{Registry.Host}/multi:1";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        using var client = new RegistryClient();

        var pulled = await client.PullAsync(store, name, new PullOptions { Platform = Platform.Parse("linux/arm64") }, null, Ct);
        var resolvedAmd64 = await client.ResolveAsync(name, Platform.Parse("linux/amd64"), Ct);
        var missing = await Assert.ThrowsAsync<RegistryNotFoundException>(() => client.ResolveAsync(name, Platform.Parse("linux/s390x"), Ct));

        Assert.Equal(arm64.Digest, pulled.Digest);
        Assert.Equal("arm64", pulled.Config.Architecture);
        Assert.Equal(amd64.Digest, resolvedAmd64.Descriptor.Digest);
        Assert.NotNull(resolvedAmd64.IndexDigest);
        Assert.Contains("offers linux/amd64, linux/arm64/v8", missing.Message, StringComparison.Ordinal);
        Assert.Equal(arm64.Digest, (await store.ResolveAsync(name, Ct)).Digest);
    }

    /// <summary>Pushes a layout's image as an OCI manifest under the tag <paramref name="tag"/> of <c>multi</c>; returns its digest and size.</summary>
    private async Task<(Digest Digest, long Size)> PushForIndexAsync(string layout, string tag)
    {
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--format", "oci", "--dest-tls-verify=false", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{Registry.Host}/multi:{tag}");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{Registry.Host}/v2/multi/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(request, Ct);
        byte[] manifest = await response.Content.ReadAsByteArrayAsync(Ct);
        return (Digest.Sha256(manifest), manifest.Length);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_committed_image_is_pushed_and_pulled_back_with_its_new_layer()
    {
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        Assert.Single(await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), "busybox:base", progress: null, Ct));
        string upper = Temp.Combine("upper");
        Directory.CreateDirectory(Path.Combine(upper, "srv"));
        await File.WriteAllTextAsync(Path.Combine(upper, "srv", "release"), "1.1\n", Ct);
        var committed = await store.CommitAsync("busybox:base", upper, new CommitOptions { Tag = "myapp:1.1", Message = "release 1.1" }, cancellationToken: Ct);
        string name = $"{Registry.Host}/team/myapp:1.1";
        using var client = new RegistryClient();

        var pushed = await client.PushAsync(store, "myapp:1.1", name, null, Ct);
        await using var production = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("production") }, Ct);
        var pulled = await client.PullAsync(production, name, null, Ct);

        Assert.Equal(committed.Digest, pushed);
        Assert.Equal(committed.Digest, pulled.Digest);
        using (var json = JsonDocument.Parse(await ImageFixtures.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{name}")))
        {
            Assert.Equal(3, json.RootElement.GetProperty("Layers").GetArrayLength());
        }

        var chain = await production.GetSnapshotChainAsync(name, Ct);
        Assert.Equal("1.1\n", await File.ReadAllTextAsync(Path.Combine(chain[0], "srv", "release"), Ct));
    }

    [Fact(Timeout = 180_000)]
    public async Task Two_processes_pulling_one_image_into_one_store_download_each_blob_once()
    {
        string directory = Temp.Combine("random");
        Directory.CreateDirectory(directory);
        string archive = await ImageFixtures.RandomDockerArchiveAsync(directory, 16, "random:1");
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"docker-archive:{archive}", $"docker://{Registry.Host}/shared:2");
        await using var proxy = new RegistryProxy(Registry.Host);
        string name = $"{proxy.Host}/shared:2";

        var pulls = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
        {
            var start = CliRunner.StartInfo("pull", "-q", "--root", Temp.Combine("store"), name);
            start.Environment["DOCKER_CONFIG"] = Temp.Combine("docker");
            return CliRunner.RunAsync(start, stdin: null);
        }));

        Assert.All(pulls, p => Assert.True(p.ExitCode == 0, p.Stderr));
        Assert.Equal(pulls[0].Stdout, pulls[1].Stdout);
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        var layer = Assert.Single((await store.ResolveAsync(name, Ct)).Manifest.Layers);
        Assert.Single(proxy.Requests, r => r.Method == "GET" && r.Path.EndsWith($"/blobs/{layer.Digest}", StringComparison.Ordinal));
    }

    [Fact(Timeout = 150_000)]
    public async Task A_missing_tag_is_a_not_found_error_and_nothing_is_tagged()
    {
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        using var client = new RegistryClient();

        var error = await Assert.ThrowsAsync<RegistryNotFoundException>(() => client.PullAsync(store, $"{Registry.Host}/nothing:here", null, Ct));

        Assert.Contains("nothing", error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.ListAsync(Ct));
    }
}

/// <summary>Collects reports from many threads.</summary>
internal sealed class LockedProgress<T>(List<T> reports) : IProgress<T>
{
    public void Report(T value)
    {
        lock (reports)
        {
            reports.Add(value);
        }
    }
}
