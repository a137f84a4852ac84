using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary>Containers on a directory rootfs holding a static busybox, built per test.</summary>
public sealed class DirectoryRootfsTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("containers-rootfs-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private string Rootfs()
    {
        var busybox = Requires.Tool("busybox");
        var rootfs = Path.Combine(_temp, "rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.Copy(busybox, Path.Combine(rootfs, "bin", "busybox"));
        File.CreateSymbolicLink(Path.Combine(rootfs, "bin", "sh"), "busybox");
        File.WriteAllText(Path.Combine(rootfs, "bin", "data"), "not a program\n");
        return rootfs;
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_working_directory_is_created_inside_the_root_even_through_a_link_that_points_out()
    {
        var rootfs = Rootfs();
        var outside = Path.Combine(_temp, "outside");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(rootfs + outside);
        File.CreateSymbolicLink(Path.Combine(rootfs, "escape"), outside);
        using var fixture = new RuntimeFixture();

        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "pwd -P").WithRootfs(rootfs).WithWorkingDirectory("/escape/made"),
            TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(outside + "/made\n", result.Stdout);
        Assert.True(Directory.Exists(rootfs + outside + "/made"));
        Assert.False(Directory.Exists(Path.Combine(outside, "made")));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_rootfs_a_missing_program_and_a_file_that_is_not_executable_are_three_errors()
    {
        var rootfs = Rootfs();
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;

        var noRootfs = await Assert.ThrowsAsync<RootfsNotFoundException>(
            () => fixture.Runtime.RunAsync(ContainerSpec.For("/bin/sh").WithRootfs(Path.Combine(_temp, "missing")), ct));
        var noProgram = await Assert.ThrowsAsync<ExecutableNotFoundException>(
            () => fixture.Runtime.RunAsync(ContainerSpec.For("/bin/bash").WithRootfs(rootfs), ct));
        var notExecutable = await Assert.ThrowsAsync<NotExecutableException>(
            () => fixture.Runtime.RunAsync(ContainerSpec.For("/bin/data").WithRootfs(rootfs), ct));

        Assert.Equal(Path.Combine(_temp, "missing"), noRootfs.Path);
        Assert.Equal("/bin/bash", noProgram.Executable);
        Assert.Equal("/bin/data", notExecutable.Path);
        Assert.Equal(3, new[] { noRootfs.Message, noProgram.Message, notExecutable.Message }.Distinct().Count());
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_spec_run_again_reuses_its_plan_and_a_host_changed_since_gets_the_errors_of_a_first_run()
    {
        var rootfs = Rootfs();
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        var spec = ContainerSpec.For("/bin/sh", "-c", "exit 7").WithRootfs(rootfs);
        var equal = spec with { };

        Assert.Equal(7, (await fixture.Runtime.RunAsync(spec, ct)).ExitCode);
        var prepared = fixture.Runtime.RunPlans.Find(spec);
        Assert.NotNull(prepared);
        Assert.Equal(7, (await fixture.Runtime.RunAsync(spec, ct)).ExitCode);
        Assert.Same(prepared, fixture.Runtime.RunPlans.Find(spec));
        Assert.Null(fixture.Runtime.RunPlans.Find(equal));

        // The program removed after its plan was made: the reused start fails in the child, and the spec compiled
        // again says what a first run says.
        File.Delete(Path.Combine(rootfs, "bin", "sh"));
        var noProgram = await Assert.ThrowsAsync<ExecutableNotFoundException>(() => fixture.Runtime.RunAsync(spec, ct));
        Assert.Equal("/bin/sh", noProgram.Executable);
        Assert.Null(fixture.Runtime.RunPlans.Find(spec));

        File.CreateSymbolicLink(Path.Combine(rootfs, "bin", "sh"), "busybox");
        Assert.Equal(7, (await fixture.Runtime.RunAsync(spec, ct)).ExitCode);
        Directory.Move(rootfs, rootfs + "-moved");
        await Assert.ThrowsAsync<RootfsNotFoundException>(() => fixture.Runtime.RunAsync(spec, ct));
        Directory.Move(rootfs + "-moved", rootfs);
        Assert.Equal(7, (await fixture.Runtime.RunAsync(spec, ct)).ExitCode);
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_only_rootfs_refuses_writes()
    {
        var rootfs = Rootfs();
        using var fixture = new RuntimeFixture();

        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "/bin/busybox touch /file 2>/dev/null && echo rw || echo ro").WithRootfs(rootfs, readOnly: true),
            TestContext.Current.CancellationToken);

        Assert.Equal("ro\n", result.Stdout);
        Assert.False(File.Exists(Path.Combine(rootfs, "file")));
    }
}
