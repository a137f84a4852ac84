using Containers.IntegrationTests.Support;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

/// <summary><c>linux.maskedPaths</c> and <c>linux.readonlyPaths</c> are applied, and one that cannot be is an error.</summary>
public sealed class MaskedPathTests
{
    [Fact(Timeout = 30_000)]
    public async Task The_default_masked_paths_read_as_empty_and_the_readonly_ones_are_mounted_read_only()
    {
        using var fixture = new RuntimeFixture();
        var result = await fixture.Runtime.RunAsync(
            ContainerSpec.For("/bin/sh", "-c", "wc -c < /proc/keys; ls -A /sys/firmware | wc -l; cat /proc/self/mountinfo"),
            TestContext.Current.CancellationToken);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n');
        Assert.Equal("0", lines[0].Trim());   // /dev/null over the kernel's key list
        Assert.Equal("0", lines[1].Trim());   // an empty tmpfs over the firmware tables
        var mounts = lines.Skip(2).Where(l => l.Length > 0).Select(l => l.Split(' '))
            .GroupBy(f => f[4]).ToDictionary(g => g.Key, g => g.Last()[5].Split(',')); // the top mount of each point
        Assert.Contains("ro", mounts["/sys/firmware"]);
        foreach (var path in new[] { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" }.Where(Path.Exists))
        {
            Assert.Contains("ro", mounts[path]);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_masked_path_that_does_not_exist_needs_no_mask()
    {
        using var fixture = new RuntimeFixture();
        var spec = ContainerSpec.For("/bin/true");
        spec = spec with { Linux = spec.Linux! with { MaskedPaths = ["/proc/no-such-entry"], ReadonlyPaths = ["/proc/no-such-directory"] } };

        var result = await fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_masked_path_that_cannot_be_masked_fails_the_start_and_leaves_nothing()
    {
        using var fixture = new RuntimeFixture();
        var spec = ContainerSpec.For("/bin/true");
        spec = spec with { Linux = spec.Linux! with { MaskedPaths = ["/etc/hostname/inside-a-file"] } };

        var error = await Assert.ThrowsAsync<ContainerStartException>(() => fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken));

        Assert.Equal("mask /etc/hostname/inside-a-file", error.Stage);
        Assert.Equal("ENOTDIR", error.ErrnoName);
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_setting_the_runtime_does_not_apply_is_refused_before_anything_is_created()
    {
        using var fixture = new RuntimeFixture();
        var spec = ContainerSpec.FromJson(ContainerSpec.For("/bin/true").ToJson().Replace(
            "\"linux\": {", "\"linux\": { \"sysctl\": { \"kernel.msgmax\": \"1\" },", StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<InvalidSpecException>(() => fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken));

        Assert.Equal(["linux.sysctl"], error.Errors.Select(e => e.JsonPath));
        Assert.Contains("not supported yet", error.Message, StringComparison.Ordinal);
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_exec_that_sets_what_the_runtime_does_not_apply_is_refused()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        await using var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "30"), ct);
        await container.StartAsync(ct);
        var process = container.Spec.Process! with { Args = ["/bin/true"], Capabilities = new LinuxCapabilities { Bounding = ["CAP_KILL"] } };

        var error = await Assert.ThrowsAsync<InvalidSpecException>(() => container.ExecAsync(process, cancellationToken: ct));

        Assert.Equal(["process.capabilities"], error.Errors.Select(e => e.JsonPath));
    }
}
