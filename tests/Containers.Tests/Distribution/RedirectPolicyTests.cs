using Containers.Distribution.Http;

namespace Containers.Tests.Distribution;

public sealed class RedirectPolicyTests
{
    private static bool NoneInsecure(string host) => false;

    [Theory]
    [InlineData("https://registry.example/v2/x/blobs/sha256:1", "https://storage.example/b?sig=1")]
    [InlineData("https://registry.example/v2/x/blobs/sha256:1", "/local/path")]
    [InlineData("http://127.0.0.1:5000/v2/", "http://127.0.0.2:9000/blob")]
    [InlineData("http://localhost:5000/v2/", "http://localhost:9000/blob")]
    public void Redirects_that_keep_or_raise_security_are_followed(string from, string to)
    {
        var source = new Uri(from);
        Assert.Null(RedirectPolicy.Refusal(source, new Uri(source, to), NoneInsecure));
    }

    [Fact]
    public void A_redirect_from_https_to_http_is_refused()
    {
        string? refusal = RedirectPolicy.Refusal(new Uri("https://registry.example/v2/"), new Uri("http://storage.example/blob"), NoneInsecure);

        Assert.NotNull(refusal);
        Assert.Contains("HTTPS to plain HTTP", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_redirect_to_plain_http_on_a_public_host_is_refused_unless_it_is_marked_insecure()
    {
        var from = new Uri("http://127.0.0.1:5000/v2/");
        var to = new Uri("http://storage.example:8080/blob");

        Assert.NotNull(RedirectPolicy.Refusal(from, to, NoneInsecure));
        Assert.Null(RedirectPolicy.Refusal(from, to, host => host == "storage.example:8080"));
        Assert.NotNull(RedirectPolicy.Refusal(from, new Uri("file:///etc/passwd"), NoneInsecure));
    }

    [Theory]
    [InlineData("https://r.example/a", "https://r.example/b", true)]
    [InlineData("https://r.example/a", "https://R.EXAMPLE:443/b", true)]
    [InlineData("https://r.example/a", "https://r.example:5000/b", false)]
    [InlineData("https://r.example/a", "http://r.example/b", false)]
    [InlineData("https://r.example/a", "https://s3.example/b", false)]
    public void Credentials_follow_only_to_the_same_scheme_host_and_port(string from, string to, bool same) =>
        Assert.Equal(same, RedirectPolicy.SameOrigin(new Uri(from), new Uri(to)));

    [Theory]
    [InlineData("localhost:5000", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.1.2.3:80", true)]
    [InlineData("[::1]:5000", true)]
    [InlineData("10.0.0.1:5000", false)]
    [InlineData("localhost.example.com", false)]
    public void Loopback_hosts_are_recognised(string host, bool loopback) =>
        Assert.Equal(loopback, RegistryHosts.IsLoopback(host));
}
