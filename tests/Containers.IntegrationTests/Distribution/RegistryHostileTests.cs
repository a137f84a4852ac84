using System.Net;
using System.Text;
using Containers.Distribution;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>
/// A registry that lies about its documents, played by a proxy in front of a real registry: every lie is a typed
/// error that names it, and the store is left as it was (no image, no blob, nothing half-written in <c>ingest/</c>).
/// </summary>
public sealed class RegistryHostileTests : RegistryTestBase
{
    private const string OciManifest = "application/vnd.oci.image.manifest.v1+json";

    private RegistryProxy _proxy = null!;
    private string _manifest = string.Empty;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", "--format", "oci", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{Registry.Host}/real:1");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{Registry.Host}/v2/real/manifests/1");
        request.Headers.Accept.ParseAdd(OciManifest);
        using var response = await http.SendAsync(request, Ct);
        _manifest = await response.Content.ReadAsStringAsync(Ct);
        _proxy = new RegistryProxy(Registry.Host);
    }

    public override async ValueTask DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_path_in_the_announced_digest_is_refused_before_it_is_used()
    {
        AnswerManifests((context, _) =>
        {
            context.Response.AddHeader("Docker-Content-Digest", "sha256:../../../../tmp/escaped");
            return _manifest;
        });

        var error = await PullFailsAsync<RegistryException>();

        Assert.Contains("malformed digest 'sha256:../../../../tmp/escaped'", error.Message, StringComparison.Ordinal);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_manifest_over_4_MiB_is_refused_whether_or_not_its_length_is_announced(bool chunked)
    {
        AnswerManifests((context, _) =>
        {
            context.Response.SendChunked = chunked;
            return "{\"schemaVersion\":2," + new string(' ', 5 << 20) + "}";
        });

        var error = await PullFailsAsync<RegistryException>();

        Assert.Contains(chunked ? "more than the 4194304 bytes allowed" : "more than the 4194304 allowed", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_manifest_whose_bytes_differ_from_the_announced_digest_is_a_digest_error()
    {
        string real = _manifest;
        AnswerManifests((context, head) =>
        {
            // The real digest is announced, but the body gets one more space.
            context.Response.AddHeader("Docker-Content-Digest", Digest.Sha256(Encoding.UTF8.GetBytes(real)).ToString());
            return head ? real : real + " ";
        });

        await PullFailsAsync<DigestMismatchException>();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_layer_digest_with_a_path_in_the_manifest_is_refused_before_any_blob_is_fetched()
    {
        string hostile = System.Text.RegularExpressions.Regex.Replace(
            _manifest, "(\"layers\":\\[\\{[^}]*\"digest\":\")sha256:[0-9a-f]{64}", "$1sha256:../../../../tmp/escaped");
        Assert.NotEqual(_manifest, hostile);
        AnswerManifests((_, _) => hostile);

        var error = await PullFailsAsync<InvalidImageException>();

        Assert.Contains("sha256:../../../../tmp/escaped", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_proxy.Requests, r => r.Path.Contains("/blobs/", StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_document_that_is_both_an_index_and_a_manifest_is_refused_as_ambiguous()
    {
        string ambiguous = _manifest.TrimEnd().TrimEnd('}') + ",\"manifests\":[]}";
        AnswerManifests((_, _) => ambiguous);

        var error = await PullFailsAsync<InvalidImageException>();

        Assert.Contains("ambiguous", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Answers every manifest request with <paramref name="body"/> (given the response and whether it is a HEAD), as an OCI manifest.</summary>
    private void AnswerManifests(Func<HttpListenerContext, bool, string> body)
    {
        _proxy.Intercept = async context =>
        {
            if (!context.Request.RawUrl!.Contains("/manifests/", StringComparison.Ordinal))
            {
                return false;
            }

            bool head = context.Request.HttpMethod == "HEAD";
            byte[] bytes = Encoding.UTF8.GetBytes(body(context, head));
            context.Response.StatusCode = 200;
            context.Response.ContentType = OciManifest;
            if (!context.Response.SendChunked)
            {
                context.Response.ContentLength64 = bytes.Length;
            }

            if (!head)
            {
                await context.Response.OutputStream.WriteAsync(bytes);
            }

            return true;
        };
    }

    /// <summary>Pulls through the proxy, expects <typeparamref name="T"/>, and checks that the store holds nothing of it.</summary>
    private async Task<T> PullFailsAsync<T>()
        where T : Exception
    {
        string root = Temp.Combine("store");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = root }, Ct);
        using var client = new RegistryClient(new RegistryClientOptions { MaxAttempts = 1 });

        var error = await Assert.ThrowsAsync<T>(() => client.PullAsync(store, $"{_proxy.Host}/real:1", null, Ct));

        Assert.Empty(await store.ListAsync(Ct));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "blobs"), "*", SearchOption.AllDirectories));
        string ingest = Path.Combine(root, "ingest");
        Assert.Empty(Directory.Exists(ingest) ? Directory.EnumerateFiles(ingest).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)) : []);
        Assert.False(File.Exists("/tmp/escaped"));
        return error;
    }
}
