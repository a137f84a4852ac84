using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;
using Containers.Runtime;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>Containers made from images run what the image's config says, changed as Docker's rules say, and nothing in an image reaches the host.</summary>
public sealed class ImageConfigTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private ImageStore _store = null!;
    private ContainerRuntime _runtime = null!;
    private ImageRuntime _images = null!;
    private string _state = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _images = await ImageRuntime.OpenAsync(_temp, Ct);
        (_store, _runtime) = (_images.Store, _images.Runtime);
        _state = _images.StateDirectory;
    }

    public async ValueTask DisposeAsync()
    {
        await _images.DisposeAsync();
        _temp.Dispose();
    }

    private async Task<Image> ImportAsync(string name, string[] config, Action<string>? files = null)
    {
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine(name), config, files);
        return Assert.Single(await _store.ImportAsync(layout, name + ":1", progress: null, Ct));
    }

    [Fact(Timeout = 120_000)]
    public async Task The_images_entrypoint_cmd_env_workdir_and_user_are_applied()
    {
        await ImportAsync("configured", [
            "--config.entrypoint=sh", "--config.entrypoint=-c",
            "--config.cmd=echo \"$(id -u):$(id -g):$(id -G) $(pwd) $GREETING $PATH\"",
            "--config.env=PATH=/bin", "--config.env=GREETING=image",
            "--config.workingdir=/srv/app", "--config.user=app",
            "--config.exposedports=8080/tcp", "--config.label=tier=web", "--config.stopsignal=SIGQUIT",
        ]);

        var result = await _runtime.RunFromImageAsync("configured:1", null, Ct);

        Assert.Equal("", result.Stderr);
        Assert.Equal("1234:2000:2000 50 /srv/app image /bin\n", result.Stdout);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_command_replaces_the_cmd_and_an_entrypoint_drops_it_and_the_callers_env_wins()
    {
        await ImportAsync("overridden", ["--config.entrypoint=echo", "--config.cmd=from-image", "--config.env=PATH=/bin", "--config.env=A=image"]);

        var command = await _runtime.RunFromImageAsync("overridden:1", new ImageContainerOptions { Command = ["from", "caller"] }, Ct);
        var entrypoint = await _runtime.RunFromImageAsync(
            "overridden:1",
            new ImageContainerOptions { Entrypoint = ["sh", "-c"], Command = ["echo $A $B; id -un"], Env = ["A=caller", "B=b"], User = "app:staff" },
            Ct);
        var bare = await _runtime.RunFromImageAsync("overridden:1", new ImageContainerOptions { Entrypoint = ["sh"], Run = new ContainerRunOptions { Stdin = "echo stdin\n"u8.ToArray() } }, Ct);

        Assert.Equal("from caller\n", command.Stdout);
        Assert.Equal("caller b\napp\n", entrypoint.Stdout);
        Assert.Equal("stdin\n", bare.Stdout);
    }

    [Fact(Timeout = 120_000)]
    public async Task Ports_labels_and_the_stop_signal_are_kept_in_the_containers_info()
    {
        var image = await ImportAsync("described", [
            "--config.cmd=sleep", "--config.cmd=60", "--config.exposedports=8080/tcp", "--config.exposedports=53/udp",
            "--config.label=tier=web", "--config.stopsignal=SIGUSR1",
        ]);

        await using var container = await _runtime.CreateFromImageAsync("described", "described:1", new ImageContainerOptions
            {
                Labels = new Dictionary<string, string> { ["owner"] = "me" },
                Create = new ContainerCreateOptions { Init = true }, // pid 1 would ignore SIGUSR1; the init forwards it to sleep
            },
            Ct);
        await container.StartAsync(Ct);
        var info = (await _runtime.ListAsync(Ct)).Single(i => i.Id == "described");
        var exit = await container.StopAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.Equal("described:1", info.Image!.Reference);
        Assert.Equal(image.Digest.ToString(), info.Image.Digest);
        Assert.Equal(["53/udp", "8080/tcp"], info.Image.ExposedPorts.Order());
        Assert.Equal("web", info.Image.Labels["tier"]);
        Assert.Equal("me", info.Image.Labels["owner"]);
        Assert.Equal(10, info.StopSignal);
        Assert.Equal(128 + 10, exit.ExitCode); // sleep died of SIGUSR1, the image's stop signal, not of SIGTERM or SIGKILL
    }

    [Fact(Timeout = 120_000)]
    public async Task On_the_hosts_network_a_container_resolves_names_with_the_hosts_files_read_only_and_its_commit_leaves_them_out()
    {
        Assert.SkipUnless(File.Exists("/etc/resolv.conf") && File.Exists("/etc/hosts"), "needs the host's /etc/resolv.conf and /etc/hosts");

        // plain: neither file; linked: /etc/hosts is a link, left as it is (never followed for a bind).
        await ImportAsync("plain", ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        await ImportAsync("linked", ["--config.entrypoint=sh", "--config.env=PATH=/bin"], rootfs => File.CreateSymbolicLink(Path.Combine(rootfs, "etc", "hosts"), "/nowhere"));
        var script = "cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; echo x >> /etc/resolv.conf 2>/dev/null || echo read-only";
        ImageContainerOptions Host(string command) => new()
        {
            Command = ["-c", command],
            Configure = spec => spec.WithNetwork(Containers.Spec.NetworkMode.Host),
            Create = new ContainerCreateOptions { Stdio = ContainerStdio.Pipes },
        };

        var hosts = await _runtime.RunFromImageAsync("plain:1", Host(script), Ct);
        var own = await _runtime.RunFromImageAsync("plain:1", new ImageContainerOptions { Command = ["-c", "test -e /etc/resolv.conf || echo none"] }, Ct);
        var linked = await _runtime.RunFromImageAsync("linked:1", Host("busybox readlink /etc/hosts; test -e /etc/resolv.conf && echo resolv"), Ct);
        await using var committed = await _runtime.CreateFromImageAsync(null, "plain:1", Host("echo made > /made"), Ct);
        await committed.StartAsync(Ct);
        Assert.Equal(0, (await committed.WaitAsync(Ct)).ExitCode);
        var changes = (await committed.DiffAsync(Ct)).Select(c => c.ToString()).ToList();

        Assert.Equal((0, $"{File.ReadAllText("/etc/resolv.conf")}---\n{File.ReadAllText("/etc/hosts")}---\nread-only\n"), (hosts.ExitCode, hosts.Stdout));
        Assert.Equal("none\n", own.Stdout);
        Assert.Equal("/nowhere\nresolv\n", linked.Stdout);
        Assert.Equal(["A /made"], changes);
    }

    [Fact(Timeout = 120_000)]
    public async Task In_a_network_of_its_own_a_container_resolves_localhost_and_its_hostname_and_a_diff_leaves_the_files_out()
    {
        // plain: neither file; own: the image's own, which the container's hide; bare: no /etc at all; linked: a
        // link at /etc/hosts and a directory at /etc/hostname, both left as they are.
        await ImportAsync("plain", ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        await ImportAsync("own", ["--config.entrypoint=sh", "--config.env=PATH=/bin"], rootfs =>
        {
            File.WriteAllText(Path.Combine(rootfs, "etc", "hosts"), "10.9.9.9\tlocalhost\n");
            File.WriteAllText(Path.Combine(rootfs, "etc", "hostname"), "image\n");
        });
        await ImportAsync("bare", ["--config.entrypoint=/bin/sh"], rootfs => Directory.Delete(Path.Combine(rootfs, "etc"), recursive: true));
        await ImportAsync("linked", ["--config.entrypoint=sh", "--config.env=PATH=/bin"], rootfs =>
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "etc", "hosts"), "/nowhere");
            Directory.CreateDirectory(Path.Combine(rootfs, "etc", "hostname"));
        });
        var hostFile = _temp.Combine("callers-hosts");
        await File.WriteAllTextAsync(hostFile, "10.1.1.1\tcaller\n", Ct);

        // busybox's resolver reads /etc/hosts only: a connection refused names the address a name resolved to.
        const string Script = "cat /etc/hosts; echo ---; cat /etc/hostname; echo ---; busybox wget -q -O- http://localhost:9/ 2>&1; busybox wget -q -O- http://box:9/ 2>&1; echo done";
        ImageContainerOptions Box(string command, Func<Containers.Spec.ContainerSpec, Containers.Spec.ContainerSpec>? configure = null) => new()
        {
            Command = ["-c", command],
            Configure = spec => (configure ?? (s => s))(spec.WithHostname("box")),
        };

        var plain = await _runtime.RunFromImageAsync("plain:1", Box(Script), Ct);
        var own = await _runtime.RunFromImageAsync("own:1", Box("cat /etc/hosts /etc/hostname"), Ct);
        var inherited = await _runtime.RunFromImageAsync("plain:1", new ImageContainerOptions { Command = ["-c", "cat /etc/hostname"] }, Ct);
        var linked = await _runtime.RunFromImageAsync("linked:1", Box("busybox readlink /etc/hosts; test -d /etc/hostname && echo directory"), Ct);
        var callers = await _runtime.RunFromImageAsync("plain:1", Box("cat /etc/hosts", spec => spec.WithBindMount(hostFile, "/etc/hosts", readOnly: true)), Ct);
        var diffs = new List<string>();
        foreach (var image in new[] { "plain:1", "own:1", "bare:1" })
        {
            await using var changed = await _runtime.CreateFromImageAsync(null, image, Box("echo edited >> /etc/hosts && echo made > /made"), Ct);
            await changed.StartAsync(Ct);
            Assert.Equal(0, (await changed.WaitAsync(Ct)).ExitCode);
            diffs.Add(string.Join(" ", (await changed.DiffAsync(Ct)).Select(c => c.ToString())));
        }

        var loopback = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
        Assert.Equal(0, plain.ExitCode);
        Assert.StartsWith($"{loopback}127.0.1.1\tbox\n---\nbox\n---\n", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("(127.0.0.1)", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("(127.0.1.1)", plain.Stdout, StringComparison.Ordinal);
        Assert.Equal($"{loopback}127.0.1.1\tbox\nbox\n", own.Stdout);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/hostname"), inherited.Stdout);
        Assert.Equal("/nowhere\ndirectory\n", linked.Stdout);
        Assert.Equal("10.1.1.1\tcaller\n", callers.Stdout);
        Assert.Equal(["A /made", "A /made", "A /made"], diffs);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_passwd_that_links_to_a_host_path_is_read_inside_the_image()
    {
        // The host file names a user the image does not have: a lookup that followed the link out would find it.
        var hostPasswd = _temp.Combine("host-passwd");
        await File.WriteAllTextAsync(hostPasswd, "intruder:x:4242:4242::/:/bin/sh\n", Ct);
        await ImportAsync("linked", ["--config.cmd=id", "--config.user=intruder"], rootfs =>
        {
            File.Delete(Path.Combine(rootfs, "etc", "passwd"));
            File.CreateSymbolicLink(Path.Combine(rootfs, "etc", "passwd"), hostPasswd);
        });

        var ex = await Assert.ThrowsAsync<InvalidImageConfigException>(() => _runtime.RunFromImageAsync("linked:1", null, Ct));

        Assert.Equal("User", ex.Field);
        Assert.Contains("'intruder' is not in the container's /etc/passwd", ex.Message, StringComparison.Ordinal);
        Assert.Empty(StateEntries.Of(_state));
    }

    [Fact(Timeout = 120_000)]
    public async Task A_workdir_that_links_to_the_root_stays_in_the_container()
    {
        var marker = "workdir-marker-" + Guid.NewGuid().ToString("N");
        await ImportAsync("workdir", ["--config.cmd=sh", "--config.cmd=-c", $"--config.cmd=pwd -P; touch {marker}; ls /{marker}", "--config.workingdir=/app"], rootfs =>
            File.CreateSymbolicLink(Path.Combine(rootfs, "app"), "/"));

        var result = await _runtime.RunFromImageAsync("workdir:1", null, Ct);

        Assert.Equal($"/\n/{marker}\n", result.Stdout);
        Assert.False(File.Exists("/" + marker), "the file went to the host's root");
    }

    [Theory(Timeout = 120_000)]
    [InlineData("../../x")]
    [InlineData("/data/../../x")]
    public async Task A_volume_path_that_climbs_is_refused_before_anything_is_created(string volume)
    {
        var image = await ImportAsync("volume", ["--config.cmd=true", "--config.volume=" + volume]);

        var ex = await Assert.ThrowsAsync<InvalidImageConfigException>(() => _runtime.CreateFromImageAsync(null, image, null, Ct));

        Assert.Equal("Volumes", ex.Field);
        Assert.Empty(StateEntries.Of(_state));
        Assert.False(Directory.Exists(_temp.Combine("containers")) && Directory.EnumerateFileSystemEntries(_temp.Combine("containers")).Any());
    }

    [Fact(Timeout = 60_000)]
    public async Task An_image_that_is_not_in_the_store_is_a_typed_error()
    {
        await Assert.ThrowsAsync<ImageNotFoundException>(() => _runtime.RunFromImageAsync("no-such-image:1", null, Ct));
    }
}
