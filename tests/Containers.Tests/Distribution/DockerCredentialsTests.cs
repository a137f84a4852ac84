using System.Text.Json.Nodes;
using Containers.Distribution;

namespace Containers.Tests.Distribution;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DockerCredentialsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("containers-docker-config-").FullName;

    private string ConfigPath => Path.Combine(_directory, "config.json");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Saving_writes_docker_auths_with_mode_0600_and_keeps_every_other_field()
    {
        await File.WriteAllTextAsync(ConfigPath, """{"auths":{"other.example":{"auth":"b3RoZXI6cHc="}},"psFormat":"table {{.ID}}","proxies":{"default":{"httpProxy":"http://p"}}}""", Ct);
        var docker = new DockerCredentials(ConfigPath);

        await docker.SaveAsync("localhost:5000", new RegistryCredentials("me", "pa:ss"), Ct);
        await docker.SaveAsync("docker.io", new RegistryCredentials("hub", "token"), Ct);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ConfigPath));
        var config = JsonNode.Parse(await File.ReadAllTextAsync(ConfigPath, Ct))!.AsObject();
        Assert.Equal("table {{.ID}}", config["psFormat"]!.GetValue<string>());
        Assert.Equal("http://p", config["proxies"]!["default"]!["httpProxy"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String("me:pa:ss"u8), config["auths"]!["localhost:5000"]!["auth"]!.GetValue<string>());
        Assert.NotNull(config["auths"]![DockerCredentials.DockerHubKey]);
        Assert.Equal(new RegistryCredentials("me", "pa:ss"), await docker.GetAsync("localhost:5000", Ct));
        Assert.Equal(new RegistryCredentials("hub", "token"), await docker.GetAsync("docker.io", Ct));
        Assert.Equal(new RegistryCredentials("other", "pw"), await docker.GetAsync("other.example", Ct));
        Assert.Empty(Directory.EnumerateFiles(_directory, ".*.tmp"));
    }

    [Fact]
    public async Task An_identitytoken_entry_reads_as_an_identity_token_with_the_user_name_of_its_auth()
    {
        await File.WriteAllTextAsync(ConfigPath, """{"auths":{"reg.example":{"auth":"bWU6","identitytoken":"refresh-1"},"bare.example":{"identitytoken":"refresh-2"}}}""", Ct);
        var docker = new DockerCredentials(ConfigPath);

        var withUser = await docker.GetAsync("reg.example", Ct);
        var bare = await docker.GetAsync("bare.example", Ct);

        Assert.Equal(RegistryCredentials.FromIdentityToken("refresh-1", "me"), withUser);
        Assert.Equal("<token>", bare!.Username);
        Assert.Equal("refresh-2", bare.IdentityToken);
        Assert.DoesNotContain("refresh", withUser!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_deletes_only_that_registry_and_a_missing_file_means_no_credentials()
    {
        var docker = new DockerCredentials(ConfigPath);
        Assert.Null(await docker.GetAsync("localhost:5000", Ct));
        Assert.False(await docker.RemoveAsync("localhost:5000", Ct));

        await docker.SaveAsync("a.example", new RegistryCredentials("a", "1"), Ct);
        await docker.SaveAsync("b.example", new RegistryCredentials("b", "2"), Ct);

        Assert.True(await docker.RemoveAsync("a.example", Ct));
        Assert.Null(await docker.GetAsync("a.example", Ct));
        Assert.Equal(new RegistryCredentials("b", "2"), await docker.GetAsync("b.example", Ct));
    }

    [Fact]
    public async Task A_credential_helper_is_asked_through_docker_credential_NAME_get()
    {
        string bin = Path.Combine(_directory, "bin");
        Directory.CreateDirectory(bin);
        string helper = Path.Combine(bin, "docker-credential-testhelper");
        await File.WriteAllTextAsync(helper, "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 3\n[ \"$server\" = registry.example ] || { echo 'credentials not found in native keychain'; exit 1; }\necho '{\"ServerURL\":\"registry.example\",\"Username\":\"helped\",\"Secret\":\"s3\"}'\n", Ct);
        File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(ConfigPath, """{"credHelpers":{"registry.example":"testhelper"},"auths":{"registry.example":{"auth":"aWdub3JlZDp4"}}}""", Ct);
        string? path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", bin + ":" + path);
        try
        {
            var docker = new DockerCredentials(ConfigPath);

            Assert.Equal(new RegistryCredentials("helped", "s3"), await docker.GetAsync("registry.example", Ct));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }
    }

    [Fact]
    public async Task A_config_that_is_not_json_is_a_clear_error()
    {
        await File.WriteAllTextAsync(ConfigPath, "{not json", Ct);

        var error = await Assert.ThrowsAsync<RegistryException>(async () => await new DockerCredentials(ConfigPath).GetAsync("x.example", Ct));

        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }
}
