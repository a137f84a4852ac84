using Containers.IntegrationTests.Support;
using Containers.Linux;

namespace Containers.IntegrationTests.Linux;

/// <summary>The shim's security ops against the real kernel: masks decided in the child, CHECK_FS, CAPSET.</summary>
public sealed class SecurityOpTests : IDisposable
{
    private const CloneFlags Isolated = CloneFlags.NewPid | CloneFlags.NewNs | CloneFlags.NewUts | CloneFlags.NewIpc;

    private readonly string _dir = PlanFixtures.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task A_mask_decides_file_or_directory_by_what_the_container_has_there()
    {
        Requires.Root();
        var plan = PlanFixtures.Output(new PlanBuilder(Isolated));

        // /etc/hostname is a file on the host, a directory with a secret in this root: it must be hidden as a directory.
        PlanFixtures.BusyboxRoot(plan, _dir, pivot: false)
            .MakeDirectory("/etc")
            .MakeDirectory("/etc/hostname")
            .WriteFile("/etc/hostname/secret", "secret"u8, 0x1a4)
            .WriteFile("/file", "data"u8, 0x1a4)
            .Mask("/etc/hostname")
            .Mask("/file")
            .PivotRoot()
            .Exec("/bin/sh", ["sh", "-c", "ls -A /etc/hostname | wc -l; wc -c < /file; touch /etc/hostname/x 2>/dev/null || echo read-only"], PlanFixtures.Env);

        await using var child = CapturedChild.Launch(plan.Build());
        var (status, output) = await child.RunAsync();

        Assert.Equal(0, status.ExitCode);
        Assert.Equal("0\n0\nread-only\n", output);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_mask_never_binds_a_null_device_that_is_a_symlink_or_another_file()
    {
        Requires.Root();
        var link = Path.Combine(_dir + "-null");
        File.CreateSymbolicLink(link, "/etc/passwd");
        try
        {
            var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
            PlanFixtures.BusyboxRoot(plan, _dir, pivot: false)
                .WriteFile("/file", "data"u8, 0x1a4)
                .Mask("/file", nullDevice: link)
                .Exec("/bin/sh", ["sh", "-c", "exit 0"], PlanFixtures.Env);

            await using var child = CapturedChild.Launch(plan.Build());
            var error = await Assert.ThrowsAsync<ContainerStartException>(() => child.Child.WaitForExecAsync(TestContext.Current.CancellationToken));

            Assert.Equal("mask /file", error.Stage);
            Assert.Equal("ENODEV", error.ErrnoName);
        }
        finally
        {
            File.Delete(link);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_fs_refuses_a_symlinked_or_faked_proc()
    {
        Requires.Root();
        foreach (var (fake, expected) in new[] { ("symlink", "ELOOP"), ("tmpfs", "EXDEV") })
        {
            var dir = PlanFixtures.TempDir();
            try
            {
                var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
                PlanFixtures.BusyboxRoot(plan, dir, pivot: false).MakeDirectory("/real");
                if (fake == "symlink")
                {
                    plan.Mount("proc", "/real", "proc").Symlink("/real", "/p");
                }
                else
                {
                    plan.MakeDirectory("/p").Mount("tmpfs", "/p", "tmpfs");
                }

                plan.CheckFileSystem("/p", 0x9fa0).Exec("/bin/sh", ["sh", "-c", "exit 0"], PlanFixtures.Env);
                await using var child = CapturedChild.Launch(plan.Build());
                var error = await Assert.ThrowsAsync<ContainerStartException>(() => child.Child.WaitForExecAsync(TestContext.Current.CancellationToken));

                Assert.Equal(expected, error.ErrnoName);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Capset_reduces_the_bounding_set_and_keeps_a_non_root_user_s_ambient_capability_across_exec()
    {
        Requires.Root();
        const ulong NetBindService = 1UL << 10, SetPcap = 1UL << 8;
        var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
        PlanFixtures.BusyboxRoot(plan, _dir)
            .Prctl(8, 1) // PR_SET_KEEPCAPS
            .SetResGid(1000)
            .SetResUid(1000)
            .CapSet(NetBindService, NetBindService | SetPcap, NetBindService, DropAllBut(NetBindService | SetPcap), null, [10])
            .Exec("/bin/sh", ["sh", "-c", "grep -E '^Cap(Eff|Bnd|Amb)' /proc/self/status | tr -s '\\t' ' '"], PlanFixtures.Env);

        await using var child = CapturedChild.Launch(plan.Build());
        var (status, output) = await child.RunAsync();

        Assert.True(status.ExitCode == 0, output);
        Assert.Equal("CapEff: 0000000000000400\nCapBnd: 0000000000000500\nCapAmb: 0000000000000400\n", output);
    }

    [Fact(Timeout = 60_000)]
    public async Task Capset_skips_its_drops_when_the_bounding_set_lacks_the_probe_and_drops_when_it_has_it()
    {
        Requires.Root();
        const int NetAdmin = 12, SysModule = 16, SysAdmin = 21;
        var host = CapabilityBoundingSet.Read();
        Assert.True((host >> NetAdmin & host >> SysModule & host >> SysAdmin & 1) != 0, $"this host's bounding set {host:x} lacks a capability the test drops");
        var outputs = new List<string>();

        // The first CAPSET drops CAP_SYS_ADMIN, as a launch thread for a reduced set has before the clone; the second
        // lists CAP_NET_ADMIN with a probe: CAP_SYS_ADMIN (absent: the drop is skipped) or CAP_SYS_MODULE (present).
        foreach (var probe in new uint[] { SysAdmin, SysModule })
        {
            var permitted = ProcessPermitted();
            var kept = permitted & ~(1UL << SysAdmin);
            var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
            PlanFixtures.BusyboxRoot(plan, _dir)
                .CapSet(permitted, permitted, 0, [SysAdmin], null, [])
                .CapSet(kept, kept, 0, [NetAdmin], probe, [])
                .Exec("/bin/sh", ["sh", "-c", "grep -E '^CapBnd' /proc/self/status | tr -s '\\t' ' '"], PlanFixtures.Env);

            await using var child = CapturedChild.Launch(plan.Build());
            var (status, output) = await child.RunAsync();
            Assert.True(status.ExitCode == 0, output);
            outputs.Add(output);
        }

        Assert.Equal(
            [$"CapBnd: {host & ~(1UL << SysAdmin):x16}\n", $"CapBnd: {host & ~(1UL << SysAdmin) & ~(1UL << NetAdmin):x16}\n"],
            outputs);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_capset_with_a_probe_ends_with_its_set_whether_cloned_from_the_reduced_launch_thread_or_not()
    {
        Requires.Root();
        var host = Containers.Runtime.Plan.HostView.Current.BoundingSet;
        var wanted = Containers.Runtime.Plan.CapabilitiesStep.DefaultSet(host);
        var drop = Enumerable.Range(0, 64).Where(c => (host & ~wanted & (1UL << c)) != 0).Select(c => (uint)c).ToArray();
        Assert.NotEmpty(drop);
        var outputs = new List<string>();

        // As CapabilitiesStep emits it for the default set: the plan asks for the reduced thread, or (the fallback
        // when there is none) is cloned from the thread that keeps the process's set and drops the list itself.
        foreach (var reduced in new[] { true, false })
        {
            var plan = PlanFixtures.Output(new PlanBuilder(Isolated));
            PlanFixtures.BusyboxRoot(plan, _dir)
                .CapSet(wanted, wanted, 0, drop, drop[0], [])
                .Exec("/bin/sh", ["sh", "-c", "grep -E '^CapBnd' /proc/self/status | tr -s '\\t' ' '"], PlanFixtures.Env);
            if (reduced)
            {
                plan.LaunchWithBoundingSet(wanted);
            }

            await using var child = CapturedChild.Launch(plan.Build());
            var (status, output) = await child.RunAsync();
            Assert.True(status.ExitCode == 0, output);
            outputs.Add(output);
        }

        Assert.Equal([$"CapBnd: {wanted:x16}\n", $"CapBnd: {wanted:x16}\n"], outputs);
    }

    private static ulong ProcessPermitted() => ulong.Parse(
        File.ReadLines("/proc/self/status").Single(l => l.StartsWith("CapPrm:", StringComparison.Ordinal))[7..].Trim(),
        System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every capability of this kernel outside <paramref name="keep"/>: what a new user namespace's or root's full bounding set must drop.</summary>
    private static uint[] DropAllBut(ulong keep) =>
        [.. Enumerable.Range(0, CapabilityBoundingSet.ReadLastCapability() + 1).Where(c => (keep & (1UL << c)) == 0).Select(c => (uint)c)];
}
