using Containers.Distribution;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary>Basic and token authentication against a real registry, and credentials in Docker's config format.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RegistryAuthTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 120_000)]
    public async Task With_basic_auth_login_saves_docker_config_0600_and_push_and_pull_use_it()
    {
        await using var registry = await RegistryServer.StartAsync(await RegistryServer.HtpasswdAuthAsync(_temp.Path));
        var docker = new DockerCredentials(_temp.Combine("docker", "config.json"));
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = docker });

        string filed = await client.LoginAsync($"http://{registry.Host}/", new RegistryCredentials(RegistryServer.User, RegistryServer.Password), docker, Ct);

        Assert.Equal(registry.Host, filed);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(docker.ConfigPath));
        string expectedAuth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RegistryServer.User}:{RegistryServer.Password}"));
        Assert.Contains($"\"{registry.Host}\"", await File.ReadAllTextAsync(docker.ConfigPath, Ct), StringComparison.Ordinal);
        Assert.Contains(expectedAuth, await File.ReadAllTextAsync(docker.ConfigPath, Ct), StringComparison.Ordinal);

        string name = $"{registry.Host}/private/busybox:1";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var imported = Assert.Single(await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), name, null, Ct));
        Assert.Equal(imported.Digest, await client.PushAsync(store, name, null, null, Ct));
        string inspect = await ImageFixtures.RunAsync("skopeo", "inspect", "--tls-verify=false", "--creds", $"{RegistryServer.User}:{RegistryServer.Password}", $"docker://{name}");
        Assert.Contains(imported.Digest.ToString(), inspect, StringComparison.Ordinal);

        await using var other = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("other") }, Ct);
        Assert.Equal(imported.Digest, (await client.PullAsync(other, name, null, Ct)).Digest);

        Assert.True(await docker.RemoveAsync(registry.Host, Ct));
        Assert.Null(await docker.GetAsync(registry.Host, Ct));
    }

    [Fact(Timeout = 150_000)]
    public async Task A_wrong_password_is_a_clear_authentication_error_and_is_not_saved()
    {
        await using var registry = await RegistryServer.StartAsync(await RegistryServer.HtpasswdAuthAsync(_temp.Path));
        var docker = new DockerCredentials(_temp.Combine("docker", "config.json"));
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = new StaticCredentials(new Dictionary<string, RegistryCredentials> { [registry.Host] = new(RegistryServer.User, "wrong") }) });

        var login = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => client.LoginAsync(registry.Host, new RegistryCredentials(RegistryServer.User, "wrong"), docker, Ct));
        var pull = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => client.ResolveAsync($"{registry.Host}/private/busybox:1", null, Ct));

        Assert.Contains($"rejected the user name or password of '{RegistryServer.User}'", login.Message, StringComparison.Ordinal);
        Assert.Contains("rejected the credentials", pull.Message, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, pull.StatusCode);
        Assert.Contains(login.Errors, e => e.Code == "UNAUTHORIZED");
        Assert.False(File.Exists(docker.ConfigPath));
    }

    [Fact(Timeout = 150_000)]
    public async Task Anonymous_access_to_a_registry_with_auth_says_to_log_in()
    {
        await using var registry = await RegistryServer.StartAsync(await RegistryServer.HtpasswdAuthAsync(_temp.Path));
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = new StaticCredentials(new Dictionary<string, RegistryCredentials>()) });

        var error = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => client.ResolveAsync($"{registry.Host}/private/busybox:1", null, Ct));

        Assert.Contains($"containers login {registry.Host}", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task With_token_auth_push_and_pull_get_scoped_tokens_that_are_cached()
    {
        await using var tokens = TokenServer.Start(_temp.Path);
        await using var registry = await RegistryServer.StartAsync(tokens.RegistryAuth);
        var credentials = new StaticCredentials(new Dictionary<string, RegistryCredentials> { [registry.Host] = new(RegistryServer.User, RegistryServer.Password) });
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = credentials });
        string name = $"{registry.Host}/team/app:1.0";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var imported = Assert.Single(await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), name, null, Ct));

        Assert.Equal(imported.Digest, await client.PushAsync(store, name, null, null, Ct));
        await using var other = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("other") }, Ct);
        Assert.Equal(imported.Digest, (await client.PullAsync(other, name, null, Ct)).Digest);

        var requests = tokens.Requests.ToList();
        Assert.All(requests, r => Assert.Equal(RegistryServer.User, r.User));
        Assert.Single(requests, r => r.Scopes.SequenceEqual(["repository:team/app:pull,push"]));
        Assert.Single(requests, r => r.Scopes.SequenceEqual(["repository:team/app:pull"]));
        Assert.Equal(2, requests.Count);
    }

    [Fact(Timeout = 120_000)]
    public async Task An_identity_token_in_the_docker_config_is_exchanged_for_scoped_tokens_with_the_refresh_token_grant()
    {
        await using var tokens = TokenServer.Start(_temp.Path);
        await using var registry = await RegistryServer.StartAsync(tokens.RegistryAuth);
        string config = _temp.Combine("docker-config.json");
        string auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RegistryServer.User}:"));
        var document = new System.Text.Json.Nodes.JsonObject
        {
            ["auths"] = new System.Text.Json.Nodes.JsonObject { [registry.Host] = new System.Text.Json.Nodes.JsonObject { ["auth"] = auth, ["identitytoken"] = TokenServer.RefreshToken } },
        };
        await File.WriteAllTextAsync(config, document.ToJsonString(), Ct);
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = new DockerCredentials(config) });
        string name = $"{registry.Host}/team/app:1.0";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("store") }, Ct);
        var imported = Assert.Single(await store.ImportAsync(await ImageFixtures.BusyboxLayoutAsync(), name, null, Ct));

        Assert.Equal(imported.Digest, await client.PushAsync(store, name, null, null, Ct));
        await using var other = await ImageStore.OpenAsync(new ImageStoreOptions { Root = _temp.Combine("other") }, Ct);
        Assert.Equal(imported.Digest, (await client.PullAsync(other, name, null, Ct)).Digest);

        Assert.Equal(2, tokens.RefreshRequests);
        Assert.Equal(2, tokens.Requests.Count);
        Assert.Contains(tokens.Requests, r => r.Scopes.SequenceEqual(["repository:team/app:pull,push"]));
    }

    [Fact(Timeout = 150_000)]
    public async Task A_wrong_identity_token_is_rejected_with_an_authentication_error()
    {
        await using var tokens = TokenServer.Start(_temp.Path);
        await using var registry = await RegistryServer.StartAsync(tokens.RegistryAuth);
        var credentials = new StaticCredentials(new Dictionary<string, RegistryCredentials> { [registry.Host] = RegistryCredentials.FromIdentityToken("expired-token") });
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = credentials });

        var error = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => client.ResolveAsync($"{registry.Host}/team/app:1.0", null, Ct));

        Assert.Contains("rejected the identity token", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, tokens.RefreshRequests);
    }

    [Fact(Timeout = 150_000)]
    public async Task With_token_auth_a_wrong_password_is_rejected_by_the_token_service()
    {
        await using var tokens = TokenServer.Start(_temp.Path);
        await using var registry = await RegistryServer.StartAsync(tokens.RegistryAuth);
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = new StaticCredentials(new Dictionary<string, RegistryCredentials>()) });

        var error = await Assert.ThrowsAsync<RegistryAuthenticationException>(() => client.LoginAsync(registry.Host, new RegistryCredentials(RegistryServer.User, "wrong"), null, Ct));

        Assert.Contains("rejected the user name or password", error.Message, StringComparison.Ordinal);
        Assert.Contains(error.Errors, e => e.Code == "UNAUTHORIZED");
    }
}
