using Containers.Security;
using Containers.Spec;

namespace Containers.Tests.Security;

public sealed class SandboxProfileTests
{
    [Fact]
    public void A_default_sandbox_limits_memory_without_swap_tasks_and_cpu()
    {
        var resources = SandboxProfile.For("/bin/true").Spec.Linux!.Resources!;

        Assert.Equal(new LinuxMemory { Limit = 256L << 20, Swap = 256L << 20 }, resources.Memory);
        Assert.Equal(new LinuxPids(128), resources.Pids);
        Assert.Equal(100_000, resources.Cpu!.Quota);
        Assert.Equal(100_000UL, resources.Cpu.Period);
    }

    [Fact]
    public void Each_limit_can_be_changed()
    {
        var options = SandboxOptions.Default with { MemoryLimitBytes = 32L << 20, PidsLimit = 16, Cpus = 0.25 };

        var resources = SandboxProfile.For(options, "/bin/true").Spec.Linux!.Resources!;

        Assert.Equal(new LinuxMemory { Limit = 32L << 20, Swap = 32L << 20 }, resources.Memory);
        Assert.Equal(new LinuxPids(16), resources.Pids);
        Assert.Equal(25_000, resources.Cpu!.Quota);
    }

    [Fact]
    public void A_limit_set_to_null_is_left_out_and_without_limits_the_sandbox_has_no_cgroup()
    {
        var noPids = SandboxProfile.For(SandboxOptions.Default with { PidsLimit = null }, "/bin/true").Spec.Linux!.Resources!;
        Assert.Null(noPids.Pids);
        Assert.NotNull(noPids.Memory);
        Assert.NotNull(noPids.Cpu);

        Assert.Null(SandboxProfile.For(SandboxOptions.Default.WithoutLimits(), "/bin/true").Spec.Linux!.Resources);
    }

    [Fact]
    public void A_cpu_limit_that_is_not_positive_is_refused_when_the_sandbox_is_made()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SandboxProfile.For(SandboxOptions.Default with { Cpus = 0 }, "/bin/true"));
    }
}
