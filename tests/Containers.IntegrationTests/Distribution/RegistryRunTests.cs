using Containers.Distribution;
using Containers.Images;
using Containers.Images.Model;
using Containers.IntegrationTests.Cli;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Runtime.Images;
using Containers.IntegrationTests.Support;
using Containers.Runtime;

namespace Containers.IntegrationTests.Distribution;

/// <summary>Pull, then run: containers made from images a real registry serves, by the runtime and by <c>containers run --pull</c>.</summary>
public sealed class RegistryRunTests : RegistryTestBase
{

    [Fact(Timeout = 180_000)]
    public async Task The_runtime_pulls_a_missing_image_once_then_runs_it_and_always_follows_a_moved_tag()
    {
        await PushVersionAsync("app:1", version: 1);
        await using var proxy = new RegistryProxy(Registry.Host);
        string name = $"{proxy.Host}/app:1";
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        await using var runtime = await ContainerRuntime.OpenAsync(
            new ContainerRuntimeOptions { StateDirectory = Temp.Combine("state"), StorageDirectory = Temp.Combine("containers"), Images = store }, Ct);
        var reports = new List<TransferProgress>();

        var pulled = await runtime.RunFromImageAsync(name, new ImageContainerOptions { Pull = PullPolicy.Missing, PullProgress = new LockedProgress<TransferProgress>(reports) }, Ct);
        int requestsOfFirstRun = proxy.Requests.Count;
        var stored = await runtime.RunFromImageAsync(name, new ImageContainerOptions { Pull = PullPolicy.Missing }, Ct);
        int requestsOfSecondRun = proxy.Requests.Count - requestsOfFirstRun;
        await PushVersionAsync("app:1", version: 2);
        var stale = await runtime.RunFromImageAsync(name, null, Ct);
        var moved = await runtime.RunFromImageAsync(name, new ImageContainerOptions { Pull = PullPolicy.Always }, Ct);
        int before = proxy.Requests.Count;
        var never = await Assert.ThrowsAsync<ImageNotFoundException>(() => runtime.RunFromImageAsync($"{proxy.Host}/other:1", new ImageContainerOptions { Pull = PullPolicy.Never }, Ct));
        var byPrefix = await Assert.ThrowsAsync<ImageNotFoundException>(() => runtime.PullImageAsync("sha256:0123456789ab", PullPolicy.Missing, null, Ct));

        Assert.Equal((0, "version 1\n", ""), (pulled.ExitCode, pulled.Stdout, pulled.Stderr));
        Assert.Contains(reports, r => r.Phase == TransferPhase.Downloading);
        Assert.Contains(reports, r => r.Phase == TransferPhase.Applying);
        Assert.NotEqual(0, requestsOfFirstRun);
        Assert.Equal("version 1\n", stored.Stdout);
        Assert.Equal(0, requestsOfSecondRun);
        Assert.Equal("version 1\n", stale.Stdout);
        Assert.Equal("version 2\n", moved.Stdout);
        Assert.Contains("other:1", never.Message, StringComparison.Ordinal);
        Assert.Equal("sha256:0123456789ab", byPrefix.Reference);
        Assert.Equal(before, proxy.Requests.Count);
    }

    [Fact(Timeout = 180_000)]
    public async Task Run_pulls_a_missing_image_and_with_pull_never_a_missing_image_is_a_clear_error_and_125()
    {
        await PushVersionAsync("cli:1", version: 1);
        string name = $"{Registry.Host}/cli:1";

        var first = await CliAsync("run", name);
        var second = await CliAsync("run", name);
        var never = await CliAsync("run", "--pull", "never", $"{Registry.Host}/absent:1");
        var bad = await CliAsync("run", "--pull", "sometimes", name);
        var created = await CliAsync("create", "--root", Temp.Combine("other-store"), "--pull", "always", name);
        var removed = await CliAsync("rm", "-f", created.Stdout.Trim());

        Assert.Equal((0, "version 1\n"), (first.ExitCode, first.Stdout));
        Assert.Contains($"image '{name}' not found in the store: pulling it", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("downloading sha256:", first.Stderr, StringComparison.Ordinal);
        Assert.Equal((0, "version 1\n", ""), second);
        Assert.Equal(125, never.ExitCode);
        Assert.Equal("", never.Stdout);
        Assert.Matches($"^containers: image '{Registry.Host}/absent:1' not found in the store[^\n]*\n$", never.Stderr);
        Assert.Equal(125, bad.ExitCode);
        Assert.Contains("--pull 'sometimes': use missing, always or never", bad.Stderr, StringComparison.Ordinal);
        Assert.True(created.ExitCode == 0, created.Stderr);
        Assert.Contains("downloading sha256:", created.Stderr, StringComparison.Ordinal);
        Assert.True(removed.ExitCode == 0, removed.Stderr);
    }

    [Fact(Timeout = 240_000)]
    public async Task The_runtime_pulls_the_platform_it_is_asked_for_and_refuses_to_run_an_image_of_another_platform()
    {
        var (name, foreign) = await PushPlatformIndexAsync("multi");
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Temp.Combine("store") }, Ct);
        await using var runtime = await ContainerRuntime.OpenAsync(
            new ContainerRuntimeOptions { StateDirectory = Temp.Combine("state"), StorageDirectory = Temp.Combine("containers"), Images = store }, Ct);

        var host = await runtime.RunFromImageAsync(name, new ImageContainerOptions { Pull = PullPolicy.Missing, Platform = Platform.Host }, Ct);
        var pulledForeign = await runtime.PullImageAsync(name, PullPolicy.Missing, foreign, progress: null, Ct);
        var notHost = await Assert.ThrowsAsync<ImagePlatformException>(() => runtime.RunFromImageAsync(name, null, Ct));
        var notRequested = await Assert.ThrowsAsync<ImagePlatformException>(() => runtime.RunFromImageAsync(name, new ImageContainerOptions { Platform = Platform.Host }, Ct));
        var pulledBack = await runtime.RunFromImageAsync(name, new ImageContainerOptions { Pull = PullPolicy.Missing, Platform = Platform.Host }, Ct);
        var absent = await Assert.ThrowsAsync<RegistryNotFoundException>(() => runtime.PullImageAsync(name, PullPolicy.Always, Platform.Parse("linux/s390x"), null, Ct));

        Assert.Equal((0, "version 1\n"), (host.ExitCode, host.Stdout));
        Assert.Equal(foreign.Architecture, pulledForeign.Config.Architecture);
        // The foreign image holds the host's busybox: only the platform check stops it, not a failing exec.
        Assert.Equal(Platform.Host, notHost.Wanted);
        Assert.Equal(foreign.Architecture, notHost.Actual.Architecture);
        Assert.Contains($"is for {notHost.Actual}, but this host runs {Platform.Host}", notHost.Message, StringComparison.Ordinal);
        Assert.Contains($"not the requested {Platform.Host}", notRequested.Message, StringComparison.Ordinal);
        Assert.Equal((0, "version 1\n"), (pulledBack.ExitCode, pulledBack.Stdout));
        Assert.Contains($"offers linux/{Platform.Host.Architecture}", absent.Message, StringComparison.Ordinal);
        Assert.Empty(await runtime.ListAsync(Ct));
    }

    [Fact(Timeout = 240_000)]
    public async Task Run_and_create_take_a_platform_and_a_stored_image_of_another_platform_is_refused_with_125()
    {
        var (name, foreign) = await PushPlatformIndexAsync("climulti");

        var host = await CliAsync("run", "--platform", Platform.Host.ToString(), name);
        var pulledForeign = await CliAsync("pull", "-q", "--platform", foreign.ToString(), name);
        var refused = await CliAsync("run", "--pull", "never", name);
        var created = await CliAsync("create", "--platform", Platform.Host.ToString(), name);
        var removed = await CliAsync("rm", "-f", created.Stdout.Trim());
        var absent = await CliAsync("run", "--platform", "linux/s390x", "--pull", "always", name);
        var malformed = await CliAsync("run", "--platform", "linux", name);
        var noImage = await CliAsync("run", "--platform", Platform.Host.ToString(), "--host-rootfs", "true");

        Assert.Equal((0, "version 1\n"), (host.ExitCode, host.Stdout));
        Assert.True(pulledForeign.ExitCode == 0, pulledForeign.Stderr);
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains($"is for linux/{foreign.Architecture}, but this host runs {Platform.Host}", refused.Stderr, StringComparison.Ordinal);
        Assert.True(created.ExitCode == 0, created.Stderr);
        Assert.Contains($"is stored for linux/{foreign.Architecture}, not {Platform.Host}: pulling it", created.Stderr, StringComparison.Ordinal);
        Assert.True(removed.ExitCode == 0, removed.Stderr);
        Assert.Equal(125, absent.ExitCode);
        Assert.Contains("offers", absent.Stderr, StringComparison.Ordinal);
        Assert.Equal(125, malformed.ExitCode);
        Assert.Contains("expected os/arch[/variant]", malformed.Stderr, StringComparison.Ordinal);
        Assert.Equal(125, noImage.ExitCode);
        Assert.Contains("--platform applies to a container made from an image", noImage.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Puts a two-platform index under <c>REPOSITORY:1</c>: the host's platform runs <c>version 1</c>; the other
    /// platform's entry is the same busybox (the host's binaries) with another architecture in its config.
    /// </summary>
    private async Task<(string Name, Platform Foreign)> PushPlatformIndexAsync(string repository)
    {
        var foreign = Platform.Host.Architecture == "arm64" ? Platform.Parse("linux/amd64") : Platform.Parse("linux/arm64/v8");
        var entries = new List<string>();
        foreach (var (platform, version) in new[] { (Platform.Host, 1), (foreign, 2) })
        {
            var layout = await ConfiguredImage.BuildAsync(Temp.Combine($"{repository}-{version}"), [
                "--config.cmd=sh", "--config.cmd=-c", "--config.cmd=echo version $VERSION", "--config.env=PATH=/bin", $"--config.env=VERSION={version}",
                $"--architecture={platform.Architecture}",
            ]);
            string tag = $"v{version}";
            await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--format", "oci", "--dest-tls-verify=false", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{Registry.Host}/{repository}:{tag}");
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{Registry.Host}/v2/{repository}/manifests/{tag}");
            request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
            using var response = await http.SendAsync(request, Ct);
            byte[] manifest = await response.Content.ReadAsByteArrayAsync(Ct);
            string variant = platform.Variant is { } v ? $",\"variant\":\"{v}\"" : string.Empty;
            entries.Add($$$"""{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{Digest.Sha256(manifest)}}}","size":{{{manifest.Length}}},"platform":{"os":"linux","architecture":"{{{platform.Architecture}}}"{{{variant}}}}}""");
        }

        using (var http = new HttpClient())
        {
            using var content = new StringContent($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{string.Join(',', entries)}}]}""");
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.oci.image.index.v1+json");
            using var put = await http.PutAsync($"http://{Registry.Host}/v2/{repository}/manifests/1", content, Ct);
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(Ct));
        }

        return ($"{Registry.Host}/{repository}:1", foreign);
    }

    /// <summary>Pushes an image whose command prints <c>version N</c> under <paramref name="repositoryAndTag"/> with skopeo.</summary>
    private async Task PushVersionAsync(string repositoryAndTag, int version)
    {
        var layout = await ConfiguredImage.BuildAsync(Temp.Combine($"v{version}-{Guid.NewGuid():N}"), [
            "--config.cmd=sh", "--config.cmd=-c", "--config.cmd=echo version $VERSION", "--config.env=PATH=/bin", $"--config.env=VERSION={version}",
        ]);
        await ImageFixtures.RunAsync("skopeo", "copy", "-q", "--dest-tls-verify=false", $"oci:{layout}:{ImageFixtures.Tag}", $"docker://{Registry.Host}/{repositoryAndTag}");
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args)
    {
        var start = CliRunner.StartInfo(args);
        start.Environment["DOCKER_CONFIG"] = Temp.Combine("docker");
        start.Environment["CONTAINERS_ROOT"] = Temp.Combine("store");
        return await CliRunner.RunAsync(start, stdin: null);
    }
}
