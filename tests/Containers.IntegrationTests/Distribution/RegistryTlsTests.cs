using Containers.Distribution;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>A registry behind TLS with a certificate from a test CA made by openssl.</summary>
public sealed class RegistryTlsTests : RegistryTestBase
{
    private string _caFile = null!;

    private protected override async Task<RegistryServer> StartRegistryAsync()
    {
        Requires.Tool("openssl");
        string dir = Temp.Path;
        _caFile = Path.Combine(dir, "ca.pem");
        await ImageFixtures.RunAsync("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", Path.Combine(dir, "ca.key"), "-out", _caFile, "-days", "2", "-subj", "/CN=containers test CA");
        await ImageFixtures.RunAsync("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", Path.Combine(dir, "server.key"), "-out", Path.Combine(dir, "server.csr"), "-subj", "/CN=127.0.0.1");
        await File.WriteAllTextAsync(Path.Combine(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
        await ImageFixtures.RunAsync("openssl", "x509", "-req", "-in", Path.Combine(dir, "server.csr"), "-CA", _caFile, "-CAkey", Path.Combine(dir, "ca.key"), "-CAcreateserial", "-out", Path.Combine(dir, "server.pem"), "-days", "2", "-extfile", Path.Combine(dir, "ext.cnf"));
        return await RegistryServer.StartAsync(tls: Certificate);
    }

    private (string Certificate, string Key) Certificate => (Temp.Combine("server.pem"), Temp.Combine("server.key"));

    [Fact(Timeout = 120_000)]
    public async Task With_the_CA_file_push_and_pull_go_over_verified_TLS()
    {
        string name = $"{Registry.Host}/secure/busybox:1";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        var imported = Assert.Single(await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), name, null, Ct));
        using var client = new RegistryClient(new RegistryClientOptions { CaCertificateFile = _caFile });

        await client.PushAsync(store, name, null, null, Ct);
        await using var other = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("other") }, Ct);
        var pulled = await client.PullAsync(other, name, null, Ct);

        Assert.Equal(imported.Digest, pulled.Digest);
        string certDir = Temp.Combine("skopeo-certs");
        Directory.CreateDirectory(certDir);
        File.Copy(_caFile, Path.Combine(certDir, "ca.crt"));
        string inspect = await ImageFixtures.RunAsync("skopeo", "inspect", "--cert-dir", certDir, $"docker://{name}");
        Assert.Contains(imported.Digest.ToString(), inspect, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_TLS_registry_that_redirects_blobs_to_plain_HTTP_is_refused_and_nothing_is_stored_or_sent_there()
    {
        // Plain-HTTP "blob storage" on loopback (where plain HTTP would otherwise be allowed): it records what reaches it.
        await using var storage = new RegistryProxy(Registry.Host);
        await using var registry = await RegistryServer.StartAsync(tls: Certificate, redirectBlobsTo: new Uri($"http://{storage.Host}/"));
        string name = $"{registry.Host}/redirected/busybox:1";
        using var client = new RegistryClient(new RegistryClientOptions { CaCertificateFile = _caFile });
        await using (var source = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("source") }, Ct))
        {
            Assert.Single(await source.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), name, null, Ct));
            await client.PushAsync(source, name, null, null, Ct);
        }

        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);

        var error = await Assert.ThrowsAsync<RegistryRedirectException>(() => client.PullAsync(store, name, null, Ct));

        Assert.Equal(Uri.UriSchemeHttps, error.From.Scheme);
        Assert.Equal($"http://{storage.Host}", error.Location.GetLeftPart(UriPartial.Authority));
        Assert.Contains("HTTPS to plain HTTP", error.Message, StringComparison.Ordinal);
        Assert.Empty(storage.Requests);
        Assert.Empty(await store.ListAsync(Ct));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Root, "blobs"), "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Root, "ingest"), "*.download"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.Root, "snapshots"), "tmp-*"));
    }

    [Fact(Timeout = 150_000)]
    public async Task Without_the_CA_an_untrusted_certificate_is_refused_and_plain_HTTP_is_not_tried()
    {
        using var client = new RegistryClient();

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync($"{Registry.Host}/secure/busybox:1", null, Ct));

        Assert.Contains("TLS", error.Message, StringComparison.Ordinal);
        Assert.Contains("CA certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 150_000)]
    public async Task A_registry_marked_insecure_is_reached_without_verifying_its_certificate()
    {
        using var client = new RegistryClient(new RegistryClientOptions { InsecureRegistries = new HashSet<string> { Registry.Host } });

        var error = await Assert.ThrowsAsync<RegistryNotFoundException>(() => client.ResolveAsync($"{Registry.Host}/secure/none:1", null, Ct));

        Assert.Contains("none", error.Message, StringComparison.Ordinal);
    }
}
