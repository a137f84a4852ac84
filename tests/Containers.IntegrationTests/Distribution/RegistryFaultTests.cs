using System.Net;
using Containers.Distribution;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>A registry that dies, lies, throttles or redirects: the pull resumes, refuses, retries or keeps its credentials.</summary>
public sealed class RegistryFaultTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 180_000)]
    public async Task A_registry_killed_in_the_middle_of_a_blob_and_restarted_lets_the_pull_resume_with_a_range()
    {
        await using var registry = await RegistryServer.StartAsync();
        string name = $"{registry.Host}/big:1";
        await PushRandomImageAsync(name, megabytes: 32);
        await using var proxy = new RegistryProxy(registry.Host);
        using var client = new RegistryClient(new RegistryClientOptions { MaxAttempts = 10, RetryDelay = TimeSpan.FromMilliseconds(200) });
        var layer = Assert.Single((await client.ResolveAsync(name, null, Ct)).Manifest.Layers);
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        proxy.OnBody = async (path, offset, _) =>
        {
            if (path.EndsWith($"/blobs/{layer.Digest}", StringComparison.Ordinal) && offset >= layer.Size / 4 && halfway.TrySetResult())
            {
                await resume.Task;
            }
        };
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var pull = client.PullAsync(store, $"{proxy.Host}/big:1", null, Ct);
        await halfway.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        await registry.RestartAsync();
        resume.SetResult();
        var image = await pull;

        Assert.Equal(layer.Digest, Assert.Single(image.Manifest.Layers).Digest);
        var ranges = proxy.Requests.Where(r => r.Path.EndsWith($"/blobs/{layer.Digest}", StringComparison.Ordinal) && r.Headers["Range"] is not null).Select(r => r.Headers["Range"]!).ToList();
        // Every resumed request starts past what the first one delivered (a retry while the registry restarts repeats it).
        Assert.NotEmpty(ranges);
        foreach (var range in ranges)
        {
            long from = long.Parse(range["bytes=".Length..range.IndexOf('-', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(from, layer.Size / 4, layer.Size - 1);
        }
        var chain = await store.GetSnapshotChainAsync($"{proxy.Host}/big:1", Ct);
        Assert.Equal(32L << 20, new FileInfo(Path.Combine(chain[0], "data", "random.bin")).Length);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_blob_that_stalls_longer_than_the_timeout_is_resumed_with_a_range()
    {
        await using var registry = await RegistryServer.StartAsync();
        string name = $"{registry.Host}/stall:1";
        await PushRandomImageAsync(name, megabytes: 8);
        await using var proxy = new RegistryProxy(registry.Host);
        using var client = new RegistryClient(new RegistryClientOptions { Timeout = TimeSpan.FromSeconds(2), RetryDelay = TimeSpan.FromMilliseconds(10) });
        var layer = Assert.Single((await client.ResolveAsync(name, null, Ct)).Manifest.Layers);
        int stalls = 0;
        proxy.OnBody = async (path, offset, _) =>
        {
            if (path.EndsWith($"/blobs/{layer.Digest}", StringComparison.Ordinal) && offset >= layer.Size / 2 && Interlocked.Increment(ref stalls) == 1)
            {
                // Silent far longer than the client's timeout, as a stuck (or slowloris) registry is; the client must not wait for it.
                await Task.Delay(TimeSpan.FromSeconds(90), Ct);
            }
        };
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var image = await client.PullAsync(store, $"{proxy.Host}/stall:1", null, Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.Equal(layer.Digest, Assert.Single(image.Manifest.Layers).Digest);
        var range = Assert.Single(proxy.Requests, r => r.Path.EndsWith($"/blobs/{layer.Digest}", StringComparison.Ordinal) && r.Headers["Range"] is not null).Headers["Range"]!;
        long from = long.Parse(range["bytes=".Length..range.IndexOf('-', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(from, 1, layer.Size / 2 + (64 << 10));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_corrupted_blob_is_a_digest_error_and_nothing_of_it_is_stored()
    {
        await using var registry = await RegistryServer.StartAsync();
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{registry.Host}/busybox:1");
        await using var proxy = new RegistryProxy(registry.Host);
        using var client = new RegistryClient();
        var layers = (await client.ResolveAsync($"{registry.Host}/busybox:1", null, Ct)).Manifest.Layers;
        var victim = layers[0];
        proxy.OnBody = (path, offset, chunk) =>
        {
            if (path.EndsWith($"/blobs/{victim.Digest}", StringComparison.Ordinal) && offset == 0)
            {
                chunk.Span[chunk.Length / 2] ^= 0x55;
            }

            return Task.CompletedTask;
        };
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var error = await Assert.ThrowsAsync<DigestMismatchException>(() => client.PullAsync(store, $"{proxy.Host}/busybox:1", null, Ct));

        Assert.Equal(victim.Digest, error.Expected);
        Assert.False(File.Exists(Path.Combine(store.Root, "blobs", "sha256", victim.Digest.Hex)));
        Assert.Empty(await store.ListAsync(Ct));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Root, "ingest"), "*.download"));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(store.Root, "snapshots"), "tmp-*"));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_redirect_to_another_host_gets_no_credentials_and_the_pull_succeeds()
    {
        await using var registry = await RegistryServer.StartAsync(await RegistryServer.HtpasswdAuthAsync(_temp.Path));
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", $"{RegistryServer.User}:{RegistryServer.Password}", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{registry.Host}/busybox:1");
        // Blob storage is another host (127.0.0.2); it serves the blobs with its own access to the registry.
        await using var storage = new RegistryProxy(registry.Host, bindAddress: "127.0.0.2")
        {
            UpstreamAuthorization = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RegistryServer.User}:{RegistryServer.Password}")),
        };
        await using var front = new RegistryProxy(registry.Host);
        front.Intercept = context =>
        {
            string path = context.Request.RawUrl ?? string.Empty;
            if (context.Request.HttpMethod == "GET" && path.Contains("/blobs/sha256:", StringComparison.Ordinal) && context.Request.Headers["Authorization"] is not null)
            {
                context.Response.StatusCode = 307;
                context.Response.AddHeader("Location", $"http://{storage.Host}{path}");
                return Task.FromResult(true);
            }

            return Task.FromResult(false);
        };
        var credentials = new StaticCredentials(new Dictionary<string, RegistryCredentials> { [front.Host] = new(RegistryServer.User, RegistryServer.Password) });
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = credentials });
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var image = await client.PullAsync(store, $"{front.Host}/busybox:1", null, Ct);

        Assert.Equal(2, image.Manifest.Layers.Count);
        var stored = storage.Requests.ToList();
        Assert.NotEmpty(stored);
        Assert.All(stored, r => Assert.Null(r.Headers["Authorization"]));
        Assert.Contains(front.Requests, r => r.Headers["Authorization"]?.StartsWith("Basic ", StringComparison.Ordinal) == true);
    }

    [Fact(Timeout = 120_000)]
    public async Task Answers_429_and_503_are_retried_with_backoff_until_the_registry_answers()
    {
        await using var registry = await RegistryServer.StartAsync();
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{registry.Host}/busybox:1");
        await using var proxy = new RegistryProxy(registry.Host);
        int refusals = 0;
        proxy.Intercept = context =>
        {
            if (context.Request.RawUrl?.Contains("/manifests/", StringComparison.Ordinal) == true && Interlocked.Increment(ref refusals) <= 2)
            {
                context.Response.StatusCode = refusals == 1 ? 429 : 503;
                context.Response.AddHeader("Retry-After", "1");
                return Task.FromResult(true);
            }

            return Task.FromResult(false);
        };
        using var client = new RegistryClient();
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);

        var image = await client.PullAsync(store, $"{proxy.Host}/busybox:1", null, Ct);

        Assert.Equal(2, image.Manifest.Layers.Count);
        Assert.True(refusals > 2, "the refused requests were tried again");
    }

    [Fact(Timeout = 150_000)]
    public async Task A_registry_that_keeps_failing_gives_up_with_the_status_and_errors_it_sent()
    {
        await using var registry = await RegistryServer.StartAsync();
        await using var proxy = new RegistryProxy(registry.Host);
        proxy.Intercept = async context =>
        {
            if (context.Request.RawUrl?.Contains("/manifests/", StringComparison.Ordinal) != true)
            {
                return false;
            }

            context.Response.StatusCode = 503;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync("""{"errors":[{"code":"UNAVAILABLE","message":"maintenance"}]}"""u8.ToArray());
            return true;
        };
        using var client = new RegistryClient(new RegistryClientOptions { MaxAttempts = 3, RetryDelay = TimeSpan.FromMilliseconds(10) });

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync($"{proxy.Host}/busybox:1", null, Ct));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal(3, proxy.Requests.Count(r => r.Path.Contains("/manifests/", StringComparison.Ordinal)));
    }

    private async Task PushRandomImageAsync(string name, int megabytes)
    {
        string directory = _temp.Combine("random");
        Directory.CreateDirectory(directory);
        string archive = await ImageFixtures.RandomDockerArchiveAsync(directory, megabytes, "random:1");
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"docker-archive:{archive}", $"docker://{name}");
    }

}
