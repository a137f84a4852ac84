using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class ExecStepTests
{
    private const string DefaultEnv = $"[PATH={ContainerSpec.DefaultPath}] {ContainerSpec.DefaultPath}";

    private static PlanContext Context(ContainerSpec spec, FakeHost host, bool init = false, bool waitsForStart = true)
    {
        var context = StepRunner.Context(spec, host, init: init, waitsForStart: waitsForStart);
        context.Files = new ContainerFiles("/srv/rootfs", [], []);
        return context;
    }

    /// <summary>A rootfs with /bin linked to /usr/bin, a non-executable tool early in PATH and an executable one later.</summary>
    private static FakeHost Rootfs() => new FakeHost()
        .WithFile("/srv/rootfs/usr/bin/true").WithLink("/srv/rootfs/bin", "/usr/bin")
        .WithFile("/srv/rootfs/usr/local/bin/tool", (UnixFileMode)0x1a4).WithFile("/srv/rootfs/usr/bin/tool")
        .WithFile("/srv/rootfs/usr/local/bin/data", (UnixFileMode)0x1a4)
        .WithFile("/srv/rootfs/work/script.sh", (UnixFileMode)0x1a4).WithDirectory("/srv/rootfs/usr/lib");

    [Fact]
    public void A_first_process_closes_other_fds_waits_for_start_and_execs_the_program_found_in_PATH_through_containers_init()
    {
        var plan = StepRunner.Run(Context(ContainerSpec.For("true"), Rootfs()), ExecStep.Apply);

        Assert.Equal(["CloseRange []", "WaitFd slot0 [Announce]", $"Exec /usr/bin/true [true] {DefaultEnv} [ViaInit]"], plan.Lines);
    }

    [Fact]
    public void An_exec_does_not_wait_for_a_start()
    {
        var plan = StepRunner.Run(Context(ContainerSpec.For("/bin/true"), Rootfs(), waitsForStart: false), ExecStep.Apply);

        Assert.Equal(["CloseRange []", $"Exec /bin/true [/bin/true] {DefaultEnv} [ViaInit]"], plan.Lines);
    }

    [Fact]
    public void An_init_stays_reports_as_an_init_and_forwards_all_but_the_signals_it_cannot_or_must_not()
    {
        var plan = StepRunner.Run(Context(ContainerSpec.For("/bin/true"), Rootfs(), init: true), ExecStep.Apply);

        Assert.Equal(["CloseRange []", "WaitFd slot0 [Announce]", $"Exec /bin/true [/bin/true] {DefaultEnv} 0xffffffffffcafeff [ViaInit|Keep|InitStatus]"], plan.Lines);
    }

    [Fact]
    public void On_a_host_that_reaps_every_child_containers_init_keeps_the_program_and_reports_its_own_status()
    {
        var reaping = new FakeHost { ReapsEveryChild = true }
            .WithFile("/srv/rootfs/usr/bin/true").WithLink("/srv/rootfs/bin", "/usr/bin");
        var plan = StepRunner.Run(Context(ContainerSpec.For("/bin/true").WithTerminal(), reaping), ExecStep.Apply);

        Assert.Equal($"Exec /bin/true [/bin/true] {DefaultEnv} 0xffffffffffcafeff [Foreground|ViaInit|Keep]", plan.Lines[^1]);
    }

    [Fact]
    public void PATH_is_searched_past_a_file_without_execute_permission()
    {
        var plan = StepRunner.Run(Context(ContainerSpec.For("tool"), Rootfs()), ExecStep.Apply);

        Assert.StartsWith("Exec /usr/bin/tool ", plan.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_program_a_file_without_execute_permission_and_a_directory_are_three_different_errors()
    {
        var missing = Assert.Throws<ExecutableNotFoundException>(() => ExecStep.Apply(Context(ContainerSpec.For("/usr/bin/nope"), Rootfs())));
        var notExecutable = Assert.Throws<NotExecutableException>(() => ExecStep.Apply(Context(ContainerSpec.For("data"), Rootfs())));
        var directory = Assert.Throws<NotExecutableException>(() => ExecStep.Apply(Context(ContainerSpec.For("/usr/lib"), Rootfs())));

        Assert.Equal("/usr/bin/nope", missing.Executable);
        Assert.Equal("/usr/local/bin/data", notExecutable.Path);
        Assert.Contains("no execute permission", notExecutable.Message, StringComparison.Ordinal);
        Assert.Contains("is a directory", directory.Message, StringComparison.Ordinal);
        Assert.Throws<ExecutableNotFoundException>(() => ExecStep.Apply(Context(ContainerSpec.For("nope"), Rootfs())));
    }

    [Fact]
    public void A_relative_path_is_looked_up_from_the_working_directory()
    {
        var error = Assert.Throws<NotExecutableException>(
            () => ExecStep.Apply(Context(ContainerSpec.For("./script.sh").WithWorkingDirectory("/work"), Rootfs())));

        Assert.Equal("/work/./script.sh", error.Path);
    }

    [Fact]
    public void Links_in_the_rootfs_resolve_inside_it_not_on_the_host()
    {
        // /bin -> /usr/bin is absolute: it must resolve to the rootfs's /usr/bin, where true is.
        var plan = StepRunner.Run(Context(ContainerSpec.For("/bin/true"), Rootfs()), ExecStep.Apply);

        Assert.StartsWith("Exec /bin/true ", plan.Lines[^1], StringComparison.Ordinal);
    }
}
