using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Runtime.Images;
using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Cli;

/// <summary><c>containers diff</c> and <c>containers commit</c> on a container made from an image of the test's own store.</summary>
public sealed class CommitCliTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Store => _temp.Combine("store");

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 180_000)]
    public async Task Diff_lists_a_containers_changes_as_docker_does_and_commit_makes_an_image_that_runs_them()
    {
        string umoci = Requires.Tool("umoci");
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), ["--config.entrypoint=sh", "--config.env=PATH=/bin"], rootfs => File.WriteAllText(Path.Combine(rootfs, "etc", "motd"), "motd\n"));
        await using (var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Store }, Ct))
        {
            await store.ImportAsync(layout, "cli-base:1", progress: null, Ct);
        }

        var name = "cli-commit-" + Guid.NewGuid().ToString("N")[..8];
        var create = await CliRunner.RunAsync("create", "--root", Store, "--name", name, "-e", "MODE=committed", "cli-base:1", "-c", "echo hello > /hello; busybox rm /etc/motd");
        Assert.True(create.ExitCode == 0, create.Stderr);
        try
        {
            var start = await CliRunner.RunAsync("start", "-a", name);
            var diff = await CliRunner.RunAsync("diff", "--root", Store, name);
            var commit = await CliRunner.RunAsync("commit", "--root", Store, "-m", "cli commit", name, "cli-committed:2");
            var run = await CliRunner.RunAsync("run", "--root", Store, "cli-committed:2", "-c", "cat /hello; test -e /etc/motd || echo gone; echo $MODE");
            var images = await CliRunner.RunAsync("images", "--root", Store);
            var unknown = await CliRunner.RunAsync("diff", "--root", Store, "no-such-container-" + name);
            var badCompression = await CliRunner.RunAsync("commit", "--root", Store, "--compression", "lz4", name, "cli-lz4:1");
            var zstd = await CliRunner.RunAsync("commit", "--root", Store, "--compression", "zstd", name, "cli-zstd:1");
            var zstdRun = await CliRunner.RunAsync("run", "--root", Store, "cli-zstd:1", "-c", "cat /hello");

            Assert.Equal((0, ""), (start.ExitCode, start.Stderr));
            Assert.Equal((0, "C /etc\nD /etc/motd\nA /hello\n", ""), diff);
            Assert.True(commit.ExitCode == 0, commit.Stderr);
            Assert.Matches("^sha256:[0-9a-f]{64}\n$", commit.Stdout);
            Assert.Equal((0, "hello\ngone\ncommitted\n", ""), run);
            Assert.Contains("cli-committed", images.Stdout, StringComparison.Ordinal);
            Assert.Equal(125, unknown.ExitCode);
            Assert.Matches("^containers: no such container[^\n]*\n$", unknown.Stderr);
            Assert.Equal(125, badCompression.ExitCode);
            Assert.Contains("choose gzip or zstd", badCompression.Stderr, StringComparison.Ordinal);
            Assert.True(zstd.ExitCode == 0, zstd.Stderr);
            Assert.Equal((0, "hello\n"), (zstdRun.ExitCode, zstdRun.Stdout));

            string exported = _temp.Combine("exported");
            var export = await CliRunner.RunAsync("export", "--root", Store, "--format", "oci", "cli-committed:2", exported);
            Assert.True(export.ExitCode == 0, export.Stderr);
            string bundle = _temp.Combine("bundle");
            await ImageFixtures.RunAsync(umoci, ["unpack", .. Requires.IsRoot ? Array.Empty<string>() : ["--rootless"], "--image", $"{exported}:docker.io/library/cli-committed:2", bundle]);
            Assert.Equal("hello\n", File.ReadAllText(Path.Combine(bundle, "rootfs", "hello")));
            Assert.False(File.Exists(Path.Combine(bundle, "rootfs", "etc", "motd")));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }
}
