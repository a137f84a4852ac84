using System.Diagnostics;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Runtime.Images;
using Containers.Runtime;

namespace Containers.IntegrationTests.Cli;

/// <summary><c>containers run IMAGE</c>, <c>create</c> and <c>start</c> against a store of the test's own (<c>--root</c>).</summary>
public sealed class ImageRunTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Store => _temp.Combine("store");

    public void Dispose() => _temp.Dispose();

    private async Task ImportAsync()
    {
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), [
            "--config.cmd=sh", "--config.cmd=-c", "--config.cmd=echo image-cmd $(id -un) $(pwd) $GREETING",
            "--config.env=PATH=/bin", "--config.env=GREETING=hi", "--config.workingdir=/srv", "--config.user=app",
        ]);
        await using var store = await ImageStore.OpenAsync(new ImageStoreOptions { Root = Store }, Ct);
        await store.ImportAsync(layout, "cli-image:1", progress: null, Ct);
    }

    [Fact(Timeout = 120_000)]
    public async Task Run_takes_an_image_and_replaces_its_command_user_workdir_and_env()
    {
        await ImportAsync();

        var plain = await CliRunner.RunAsync("run", "--root", Store, "cli-image:1");
        var changed = await CliRunner.RunAsync("run", "--root", Store, "-u", "root", "-w", "/tmp/new", "-e", "GREETING=bye", "cli-image:1", "sh", "-c", "echo $(id -u) $(pwd) $GREETING; exit 3");
        var entrypoint = await CliRunner.RunAsync("run", "--root", Store, "--entrypoint", "echo", "cli-image:1", "only", "args");
        var groups = await CliRunner.RunAsync("run", "--root", Store, "--group-add", "staff", "--group-add", "4000", "cli-image:1", "sh", "-c", "id -G");
        var unknownGroup = await CliRunner.RunAsync("run", "--root", Store, "--group-add", "no-such-group", "cli-image:1", "true");

        Assert.Equal((0, "image-cmd app /srv hi\n", ""), plain);
        Assert.Equal((3, "0 /tmp/new bye\n", ""), changed);
        Assert.Equal((0, "only args\n", ""), entrypoint);

        // The image's user app (1234:2000) with staff (50, from the image's /etc/group, which already lists app) and 4000.
        Assert.Equal((0, "2000 50 4000\n", ""), groups);
        Assert.Equal(125, unknownGroup.ExitCode);
        Assert.Contains("'no-such-group' is not in the container's /etc/group", unknownGroup.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Run_reads_the_store_from_containers_root_and_an_unknown_image_is_one_line_and_125()
    {
        await ImportAsync();
        var start = CliRunner.StartInfo("run", "cli-image:1", "true");
        start.Environment["CONTAINERS_ROOT"] = Store;

        var fromEnvironment = await CliRunner.RunAsync(start, stdin: null);
        var (exitCode, stdout, stderr) = await CliRunner.RunAsync("run", "--root", Store, "--pull", "never", "no-such-image:1");
        var noCommand = await CliRunner.RunAsync("run", "--root", Store, "--entrypoint", "", "cli-image:1");

        Assert.Equal((0, ""), (fromEnvironment.ExitCode, fromEnvironment.Stderr));
        Assert.Equal(125, exitCode);
        Assert.Equal("", stdout);
        Assert.Matches("^containers: image 'no-such-image:1' not found in the store[^\n]*\n$", stderr);
        Assert.Equal(125, noCommand.ExitCode);
        Assert.Matches("^containers: image config Cmd: [^\n]*\n$", noCommand.Stderr);
    }

    [Fact(Timeout = 120_000)]
    public async Task Create_makes_a_container_that_start_runs_and_attaches_to()
    {
        await ImportAsync();
        var name = "created-" + Guid.NewGuid().ToString("N")[..8];

        var create = await CliRunner.RunAsync("create", "--root", Store, "--name", name, "cli-image:1", "sh", "-c", "echo out; echo err >&2; exit 4");
        var before = await CliRunner.RunAsync("ps", "-a");
        var start = await CliRunner.RunAsync("start", "-a", name);
        var again = await CliRunner.RunAsync("start", name);
        var rm = await CliRunner.RunAsync("rm", name);

        Assert.Equal((0, name + "\n", ""), create);
        Assert.Matches($@"cli-image:1\s.*\sCreated\s+{name}\n", before.Stdout);
        Assert.Equal((4, "out\n", "err\n"), start);
        Assert.Equal(125, again.ExitCode);
        Assert.Equal(0, rm.ExitCode);
    }

    /// <summary>
    /// <c>ps</c>'s <c>Mounts</c>, <c>Networks</c> and <c>Size</c> as Docker's: a volume by its name and a bind by its host
    /// path (in the spec's order: the binds, then the volumes the image's container got; cut to 15 characters unless <c>--no-trunc</c>), <c>none</c> for a network namespace of its own and
    /// <c>host</c> for the host's, and sizes only when asked for (<c>-s</c>, or a template naming <c>.Size</c>): the bytes
    /// the container wrote and its whole root, <c>N/A</c> for a root without a layer of its own.
    /// </summary>
    /// <summary><c>ps</c> names a directory used copy-on-write as the container's image, as it names one used in place.</summary>
    [Fact(Timeout = 120_000)]
    public async Task Ps_names_a_directory_used_copy_on_write_as_the_containers_image()
    {
        var root = _temp.Combine("cow-root");
        Directory.CreateDirectory(Path.Combine(root, "bin"));
        File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"));
        File.CreateSymbolicLink(Path.Combine(root, "bin", "true"), "busybox");
        var name = "ps-cow-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var create = await CliRunner.RunAsync("create", "--name", name, "--rootfs", root, "--cow", "--", "/bin/true");
            Assert.True(create.ExitCode == 0, create.Stderr);

            var ps = await CliRunner.RunAsync("ps", "-a", "--no-trunc", "--format", "{{.Names}}|{{.Image}}");

            Assert.True(ps.ExitCode == 0, ps.Stderr);
            Assert.Contains($"{name}|{root}", ps.Stdout.Split('\n'));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Ps_shows_mounts_networks_and_when_asked_sizes_as_Dockers()
    {
        await ImportAsync();
        var id = Guid.NewGuid().ToString("N")[..8];
        var (name, host, volume) = ("ps-image-" + id, "ps-host-" + id, "psvol-" + id);
        var bound = _temp.Combine("a-bound-host-directory");
        Directory.CreateDirectory(bound);
        try
        {
            var create = await CliRunner.RunAsync("create", "--root", Store, "--name", name, "-u", "root", "-v", volume + ":/data", "-v", bound + ":/in:ro", "cli-image:1", "sh", "-c", "head -c 12000 /dev/zero > /big");
            var start = await CliRunner.RunAsync("start", "-a", name);
            var hosted = await CliRunner.RunAsync("create", "--name", host, "--network", "host", "--host-rootfs", "--", "true");
            Assert.True(create.ExitCode == 0 && start.ExitCode == 0 && hosted.ExitCode == 0, create.Stderr + start.Stderr + hosted.Stderr);

            var sized = await CliRunner.RunAsync("ps", "-a", "--no-trunc", "--format", "{{.Names}}|{{.Mounts}}|{{.Networks}}|{{.Size}}");
            var cut = await CliRunner.RunAsync("ps", "-a", "--format", "{{.Names}}|{{.Mounts}}");
            var json = await CliRunner.RunAsync("ps", "-a", "--format", "json");
            var table = await CliRunner.RunAsync("ps", "-a", "-s");

            Assert.True(sized.ExitCode == 0, sized.Stderr);
            var lines = sized.Stdout.Split('\n');
            var line = Assert.Single(lines, l => l.StartsWith(name + "|", StringComparison.Ordinal));
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(line, $@"^{name}\|{bound},{volume}\|none\|12kB \(virtual [0-9.]+[kM]B\)$"), line);
            Assert.Equal($"{host}||host|N/A", Assert.Single(lines, l => l.StartsWith(host + "|", StringComparison.Ordinal)));
            Assert.Contains($"{name}|{bound[..14]}…,{volume}", cut.Stdout.Split('\n'));
            var objects = json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
                .Where(o => o.GetProperty("Names").GetString() is { } n && (n == name || n == host)).ToList();
            Assert.Equal(2, objects.Count);
            Assert.All(objects, o => Assert.False(o.TryGetProperty("Size", out _)));
            Assert.Equal(["host", "none"], objects.Select(o => o.GetProperty("Networks").GetString()));
            Assert.Equal("SIZE", table.Stdout.Split('\n')[0].Split("   ", StringSplitOptions.RemoveEmptyEntries)[^1].Trim());
            Assert.Matches($@"{host}\s+N/A$", Assert.Single(table.Stdout.Split('\n'), l => l.Contains(" " + host + " ", StringComparison.Ordinal)));
        }
        finally
        {
            await CliRunner.RunAsync("rm", "-f", name, host);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Named_volumes_and_binds_are_mounted_and_the_volume_commands_manage_them()
    {
        await ImportAsync();
        var host = _temp.Combine("host");
        Directory.CreateDirectory(host);
        await File.WriteAllTextAsync(Path.Combine(host, "in.txt"), "from host\n", Ct);

        var create = await CliRunner.RunAsync("volume", "create", "--root", Store, "clivol");
        var write = await CliRunner.RunAsync("run", "--root", Store, "-u", "root", "-v", "clivol:/data", "-v", host + ":/in:ro", "cli-image:1", "sh", "-c", "cat /in/in.txt; echo kept > /data/f");
        var read = await CliRunner.RunAsync("run", "--root", Store, "--mount", "type=volume,source=clivol,target=/data,readonly", "cli-image:1", "sh", "-c", "cat /data/f; touch /data/g 2>/dev/null || echo ro");
        var ls = await CliRunner.RunAsync("volume", "ls", "--root", Store);
        var inspect = await CliRunner.RunAsync("volume", "inspect", "--root", Store, "clivol");
        var rm = await CliRunner.RunAsync("volume", "rm", "--root", Store, "clivol");
        var missing = await CliRunner.RunAsync("volume", "rm", "--root", Store, "clivol");
        var hostNamed = await CliRunner.RunAsync("run", "--host-rootfs", "-v", "clivol:/data", "true");

        Assert.Equal((0, "clivol\n", ""), create);
        Assert.Equal((0, "from host\n", ""), write);
        Assert.Equal((0, "kept\nro\n", ""), read);
        Assert.Matches(@"^DRIVER\s+VOLUME NAME\nlocal\s+clivol\n$", ls.Stdout);
        Assert.Contains("\"Mountpoint\": \"" + Path.Combine(Store, "volumes", "clivol", "_data") + "\"", inspect.Stdout, StringComparison.Ordinal);
        Assert.Equal((0, "clivol\n"), (rm.ExitCode, rm.Stdout));
        Assert.Equal(125, missing.ExitCode);
        Assert.Matches("^containers: volume 'clivol' not found[^\n]*\n$", missing.Stderr);
        Assert.Equal(125, hostNamed.ExitCode);
    }

    [Fact(Timeout = 180_000)]
    public async Task A_host_killed_while_its_container_runs_leaves_a_store_the_next_command_cleans_up()
    {
        await ImportAsync();
        var marks = _temp.Combine("marks");
        Directory.CreateDirectory(marks);
        var name = "killed-" + Guid.NewGuid().ToString("N")[..8];
        var start = CliRunner.StartInfo("run", "--root", Store, "--name", name, "-u", "root", "-v", marks + ":/marks", "cli-image:1",
            "sh", "-c", "echo changed > /etc/changed; touch /marks/up; sleep 100");

        using (var host = Process.Start(start)!)
        {
            for (var attempt = 0; attempt < 600 && !File.Exists(Path.Combine(marks, "up")); attempt++)
            {
                if (host.HasExited)
                {
                    Assert.Fail("the command ended before its container ran: " + await host.StandardError.ReadToEndAsync(Ct));
                }

                await Task.Delay(100, Ct);
            }

            Assert.True(File.Exists(Path.Combine(marks, "up")), "the container did not start");
            Assert.Single(Directory.GetDirectories(Path.Combine(Store, "containers")));
            var container = new StateDirectory(StateDirectory.DefaultRoot()).Read(name);
            host.Kill();
            await host.WaitForExitAsync(Ct);

            // The host's death sends the container's init SIGKILL, which it may not have acted on yet when the host
            // has been reaped (on a busy machine); a container whose process still runs is listed, not removed.
            var process = new ProcessIdentity(container.Pid, container.PidStartTime);
            for (var attempt = 0; attempt < 600 && process.IsAlive; attempt++)
            {
                await Task.Delay(50, Ct);
            }

            Assert.False(process.IsAlive, "the container's process outlived its host by 30 seconds");
        }

        // The next command's runtime finds the owner gone and removes the state, the container's directory (its
        // writable layer) and its lease; the image is then free to remove, and the store holds no trace of the run.
        // Other tests' commands share the default state directory and sweep it too: one that is removing this entry
        // holds its lock, and ps leaves it to them, but does not list it either; their removal is then waited for.
        var ps = await CliRunner.RunAsync("ps", "-a");
        for (var attempt = 0; attempt < 200 && Directory.GetFileSystemEntries(Path.Combine(Store, "leases")).Length > 0; attempt++)
        {
            await Task.Delay(50, Ct);
        }

        var rmi = await CliRunner.RunAsync("rmi", "--root", Store, "cli-image:1");

        Assert.True(ps.ExitCode == 0, ps.Stderr);
        Assert.DoesNotContain(name, ps.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Store, "containers")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Store, "leases")));
        Assert.True(rmi.ExitCode == 0, rmi.Stderr);
        Assert.DoesNotContain(Store, await File.ReadAllTextAsync("/proc/self/mountinfo", Ct), StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_secret_file_appears_at_run_secrets_for_an_image_and_for_the_host_rootfs_and_a_bad_one_is_one_line_and_125()
    {
        await ImportAsync();
        var file = _temp.Combine("password.txt");
        await File.WriteAllTextAsync(file, "hunter2\n", Ct);

        var image = await CliRunner.RunAsync("run", "--root", Store, "--secret", "pw=" + file, "cli-image:1", "sh", "-c", "cat /run/secrets/pw; stat -c %a:%U /run/secrets/pw");
        var host = await CliRunner.RunAsync("run", "--host-rootfs", "--secret", "pw=" + file, "--", "/bin/cat", "/run/secrets/pw");
        var noFile = await CliRunner.RunAsync("run", "--root", Store, "--secret", "pw", "cli-image:1", "true");
        var missing = await CliRunner.RunAsync("run", "--root", Store, "--secret", "pw=" + _temp.Combine("missing"), "cli-image:1", "true");

        Assert.Equal((0, "hunter2\n400:app\n", ""), image);
        Assert.Equal((0, "hunter2\n", ""), host);
        Assert.Equal(125, noFile.ExitCode);
        Assert.Matches("^containers: [^\n]*NAME=FILE[^\n]*\n$", noFile.Stderr);
        Assert.Equal(125, missing.ExitCode);
        Assert.Matches("^containers: secret 'pw': [^\n]*missing cannot be read[^\n]*\n$", missing.Stderr);
    }
}
