using System.Runtime.Versioning;
using Containers.IntegrationTests.Cli;
using Containers.IntegrationTests.Runtime;
using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Security;

/// <summary>
/// Nothing of the host reaches a container: no host binary through <c>/proc/self/exe</c> (the CVE-2019-5736 class),
/// no terminal to type into (TIOCSTI), no host directory as a working directory (the CVE-2024-21626 class), nothing
/// of the host through containers-init, and the runtime's own files are readable by their owner only.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class HostProtectionTests
{
    private const string Refusal = "containers-init: runs only as the last step of a container's start";

    /// <summary>A script whose interpreter is <c>/proc/self/exe</c>: the binary of whoever execs it.</summary>
    private static ContainerSpec SelfExeScript(out string directory)
    {
        directory = Directory.CreateTempSubdirectory("containers-selfexe-").FullName;
        File.SetUnixFileMode(directory, (UnixFileMode)0x1ed);
        var script = Path.Combine(directory, "run");
        File.WriteAllText(script, "#!/proc/self/exe\n");
        File.SetUnixFileMode(script, (UnixFileMode)0x1ed);
        return ContainerSpec.For("/selfexe/run").WithBindMount(directory, "/selfexe", readOnly: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_entrypoint_that_re_execs_proc_self_exe_finds_containers_init_which_refuses_on_run()
    {
        using var fixture = new RuntimeFixture();
        var spec = SelfExeScript(out var directory);
        try
        {
            var result = await fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken);

            // The host's binary would have started a .NET runtime (and been open for writing from inside).
            Assert.Equal(127, result.ExitCode);
            Assert.Contains(Refusal, result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task An_entrypoint_that_re_execs_proc_self_exe_finds_containers_init_which_refuses_with_an_init_and_on_exec()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        var spec = SelfExeScript(out var directory);
        try
        {
            var withInit = await fixture.Runtime.CreateAsync(null, spec, new ContainerCreateOptions { Init = true }, ct);
            await using (withInit)
            {
                await withInit.StartAsync(ct);
                var stderr = new System.Text.StringBuilder();
                await foreach (var line in withInit.ReadOutputLinesAsync(ct))
                {
                    stderr.Append(line.Text).Append('\n');
                }

                Assert.Equal(127, (await withInit.WaitAsync(ct)).ExitCode);
                Assert.Contains(Refusal, stderr.ToString(), StringComparison.Ordinal);
            }

            await using var running = await fixture.Runtime.CreateAsync(spec with { Process = spec.Process! with { Args = ["/bin/sleep", "30"] } }, ct);
            await running.StartAsync(ct);
            await using var exec = await running.ExecAsync(running.Spec.Process! with { Args = ["/selfexe/run"] }, cancellationToken: ct);
            var result = await exec.CollectAsync(ct);

            Assert.Equal(127, result.ExitCode);
            Assert.Contains(Refusal, result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task An_init_shows_nothing_of_the_host_to_root_or_another_user_in_the_container()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        const string Script = """
            tr '\0' ' ' < /proc/1/cmdline; echo
            readlink /proc/1/exe || echo exe-denied
            cat /proc/1/environ || echo environ-denied
            ls /proc/1/map_files || echo map_files-denied
            cat /proc/1/maps | wc -c
            """;
        var hostCommandLine = Environment.GetCommandLineArgs();
        foreach (var (uid, name) in new[] { (0u, "root"), (1000u, "uid 1000") })
        {
            var spec = ContainerSpec.For("/bin/sh", "-c", Script).WithEnv("SECRET", "in-the-container");
            if (uid != 0)
            {
                spec = spec.WithUser(uid, uid);
            }

            var container = await fixture.Runtime.CreateAsync(null, spec, new ContainerCreateOptions { Init = true }, ct);
            await using (container)
            {
                await container.StartAsync(ct);
                var output = new System.Text.StringBuilder();
                await foreach (var line in container.ReadOutputLinesAsync(ct))
                {
                    output.Append(line.Text).Append('\n');
                }

                Assert.Equal(0, (await container.WaitAsync(ct)).ExitCode);
                var text = output.ToString();
                Assert.StartsWith("init ", text, StringComparison.Ordinal);
                Assert.Contains("exe-denied", text, StringComparison.Ordinal);
                Assert.Contains("environ-denied", text, StringComparison.Ordinal);
                Assert.Contains("map_files-denied", text, StringComparison.Ordinal);
                Assert.DoesNotContain("in-the-container", text, StringComparison.Ordinal);
                foreach (var arg in hostCommandLine.Where(a => a.Length > 8))
                {
                    Assert.False(text.Contains(arg, StringComparison.Ordinal), $"{name} saw the host's '{arg}': {text}");
                }
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_working_directory_through_a_magic_link_fails_the_start_on_run_and_exec()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;

        // /proc/self/cwd of the process that sets up the container is a host directory until it leaves it.
        var error = await Assert.ThrowsAsync<ContainerStartException>(
            () => fixture.Runtime.RunAsync(ContainerSpec.For("/bin/pwd").WithWorkingDirectory("/proc/self/cwd"), ct));
        Assert.Equal("ELOOP", error.ErrnoName);
        Assert.Equal("chdir /proc/self/cwd", error.Stage);

        await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "30"), ct);
        await container.StartAsync(ct);
        var execError = await Assert.ThrowsAsync<ContainerStartException>(
            () => container.ExecAsync(container.Spec.Process! with { Args = ["/bin/pwd"], Cwd = "/proc/self/cwd" }, cancellationToken: ct));
        Assert.Equal("ELOOP", execError.ErrnoName);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_runtime_s_state_its_image_store_and_its_own_files_are_not_visible_in_a_host_rootfs_container()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        await using var container = await fixture.Runtime.CreateAsync(null, ContainerSpec.For("/bin/sleep", "30"), null, ct);
        string[] runtimeFiles =
        [
            fixture.StateDirectory,
            Path.Combine(fixture.StateDirectory, container.Id),
            Containers.Runtime.StateDirectory.DefaultRoot(),
            Containers.Images.ImageStoreOptions.DefaultRoot,
            AppContext.BaseDirectory,
            Path.Combine(AppContext.BaseDirectory, "libcontainers-shim.so"),
        ];
        var onHost = runtimeFiles.Where(p => Path.Exists(p)).ToArray();
        Assert.True(onHost.Length >= 4, "the test's own state and program should exist on the host");

        // /etc/passwd is the host's (read-only): the check sees what is there, so an empty answer means something.
        var script = string.Join("; ", onHost.Append("/etc/passwd").Select(p => $"test -e '{p}' && echo 'visible {p}'")) + "; echo checked";
        await container.StartAsync(ct);
        await using var exec = await container.ExecAsync(container.Spec.Process! with { Args = ["/bin/sh", "-c", script] }, cancellationToken: ct);
        var result = await exec.CollectAsync(ct);

        Assert.Equal("visible /etc/passwd\nchecked\n", result.Stdout);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_state_the_config_and_the_log_are_readable_by_their_owner_only()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        var container = await fixture.Runtime.CreateAsync(
            "private", ContainerSpec.For("/bin/echo", "hello").WithEnv("TOKEN", "secret"), new ContainerCreateOptions { KeepLog = true }, ct);
        await using (container)
        {
            await container.StartAsync(ct);
            await container.WaitAsync(ct);
            var folder = Path.Combine(fixture.StateDirectory, "private");
            foreach (var file in new[] { "config.json", "state.json", "container.log" })
            {
                var path = Path.Combine(folder, file);
                Assert.True(File.Exists(path), $"{file} is missing");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_state_directory_another_user_could_have_made_is_refused()
    {
        var parent = Directory.CreateTempSubdirectory("containers-shared-").FullName;
        try
        {
            var writable = Path.Combine(parent, "group-writable");
            Directory.CreateDirectory(writable);
            File.SetUnixFileMode(writable, (UnixFileMode)0x1ff); // 0777, as another user's mkdir in /tmp could leave it
            var link = Path.Combine(parent, "link");
            File.CreateSymbolicLink(link, parent);

            foreach (var path in new[] { writable, link })
            {
                var error = await Assert.ThrowsAsync<ContainersIOException>(
                    () => ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = path }, TestContext.Current.CancellationToken));
                Assert.Contains("not a directory owned by this user", error.Message, StringComparison.Ordinal);
            }

            if (Requires.IsRoot)
            {
                var foreign = Path.Combine(parent, "foreign");
                Directory.CreateDirectory(foreign);
                File.SetUnixFileMode(foreign, (UnixFileMode)0x1c0);
                Assert.Equal(0, Mono_Chown(foreign, 65534));
                var error = await Assert.ThrowsAsync<ContainersIOException>(
                    () => ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = foreign }, TestContext.Current.CancellationToken));
                Assert.Contains("found uid 65534", error.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_a_terminal_the_container_has_no_controlling_terminal_even_when_the_cli_runs_in_one()
    {
        // script(1) runs the command line in a pseudo-terminal of its own: the CLI's stdio is a terminal, as in a
        // user's shell. The container must neither have it as its controlling terminal nor be able to type into it.
        var cli = CliRunner.StartInfo("run", "--host-rootfs", "-v", EscapeProgram.HostDirectory + ":/escape:ro", EscapeProgram.Path, "tty", "tiocsti");
        var command = string.Join(' ', new[] { cli.FileName }.Concat(cli.ArgumentList).Select(a => "'" + a + "'"));
        var start = new System.Diagnostics.ProcessStartInfo(Requires.Tool("script"), new[] { "-qec", command, "/dev/null" })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var (exit, stdout, stderr) = await CliRunner.RunAsync(start, stdin: null);

        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains("tty ENXIO", stdout, StringComparison.Ordinal);
        Assert.Contains("tiocsti EPERM", stdout, StringComparison.Ordinal);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Mono_Chown(string path, int uid, int gid = 65534);
}
