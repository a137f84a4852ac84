using System.Diagnostics;
using Containers.IntegrationTests.Cli;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Distribution;

/// <summary><c>containers login</c>, <c>pull</c>, <c>push</c> and <c>logout</c> against a real registry with basic auth.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RegistryCliTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 180_000)]
    public async Task I_can_log_in_pull_push_and_log_out_from_the_command_line()
    {
        await using var registry = await RegistryServer.StartAsync(await RegistryServer.HtpasswdAuthAsync(_temp.Path));
        string layout = await ImageFixtures.BusyboxLayoutAsync();
        string creds = $"{RegistryServer.User}:{RegistryServer.Password}";
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", creds, $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{registry.Host}/tools/busybox:1");

        var wrong = await RunAsync("wrong\n", "login", registry.Host, "-u", RegistryServer.User, "--password-stdin");
        Assert.Equal(125, wrong.Exit);
        Assert.Contains("rejected the user name or password", wrong.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(ConfigFile));

        var login = await RunAsync(RegistryServer.Password + "\n", "login", registry.Host, "-u", RegistryServer.User, "--password-stdin");
        Assert.True(login.Exit == 0, login.Stderr);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ConfigFile));

        var pull = await RunAsync(null, "pull", $"{registry.Host}/tools/busybox:1");
        Assert.True(pull.Exit == 0, pull.Stderr);
        string digest = pull.Stdout.Trim();
        Assert.StartsWith("sha256:", digest, StringComparison.Ordinal);
        Assert.Contains("downloading sha256:", pull.Stderr, StringComparison.Ordinal);

        var push = await RunAsync(null, "push", "-q", $"{registry.Host}/tools/busybox:1", $"{registry.Host}/copies/busybox:2");
        Assert.True(push.Exit == 0, push.Stderr);
        Assert.Equal(digest, push.Stdout.Trim());
        Assert.Contains(digest, await ImageFixtures.RunAsync("skopeo", "inspect", "--tls-verify=false", "--creds", creds, $"docker://{registry.Host}/copies/busybox:2"), StringComparison.Ordinal);

        var logout = await RunAsync(null, "logout", registry.Host);
        Assert.True(logout.Exit == 0, logout.Stderr);
        var denied = await RunAsync(null, "pull", "-q", $"{registry.Host}/tools/busybox:1");
        Assert.Equal(125, denied.Exit);
        Assert.Contains($"containers login {registry.Host}", denied.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 150_000)]
    public async Task Login_without_password_stdin_says_how_to_give_the_password()
    {
        var result = await RunAsync(null, "login", "localhost:5000", "-u", "someone");

        Assert.Equal(125, result.Exit);
        Assert.Contains("--password-stdin", result.Stderr, StringComparison.Ordinal);
    }

    private string ConfigFile => _temp.Combine("docker", "config.json");

    private async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string? stdin, params string[] args)
    {
        var start = CliRunner.StartInfo(args);
        start.Environment["DOCKER_CONFIG"] = _temp.Combine("docker");
        start.Environment["CONTAINERS_ROOT"] = _temp.Combine("store");
        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await stdout, await stderr);
    }
}
