using Containers.IntegrationTests.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Security;

/// <summary>
/// The classes of runc's published escapes, tried against this runtime. Each fails the start (or the attack) with
/// the errno of the check that stops it.
/// </summary>
public sealed class RuncCveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("containers-cve-").FullName;

    public RuncCveTests()
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_dir, (UnixFileMode)0x1ed);
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task CVE_2019_16884_and_2023_27561_a_mount_that_hides_proc_behind_a_fake_fails_the_start()
    {
        using var fixture = new RuntimeFixture();
        var fake = Directory.CreateDirectory(Path.Combine(_dir, "fake-proc")).FullName;
        File.WriteAllText(Path.Combine(fake, "keys"), "not masked\n");

        // The spec's own mounts put a plain directory over the procfs: masks applied there would protect nothing.
        var spec = ContainerSpec.For("/bin/true").WithBindMount(fake, "/proc", readOnly: false);
        var error = await Assert.ThrowsAsync<ContainerStartException>(() => fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken));

        Assert.Equal("EXDEV", error.ErrnoName);
        Assert.Equal("check that /proc is a real proc", error.Stage);
        Assert.Empty(Directory.EnumerateFileSystemEntries(fixture.StateDirectory));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_rootfs_whose_proc_is_a_symlink_fails_the_start()
    {
        using var fixture = new RuntimeFixture();
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName;
        Directory.CreateDirectory(Path.Combine(rootfs, "elsewhere"));
        File.CreateSymbolicLink(Path.Combine(rootfs, "proc"), "elsewhere");
        File.Copy(Path.Combine(EscapeProgram.HostDirectory, "escape"), Path.Combine(rootfs, "escape"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(rootfs, "escape"), (UnixFileMode)0x1ed);
        }

        var spec = ContainerSpec.For("/escape").WithRootfs(rootfs);
        var error = await Assert.ThrowsAsync<ContainerStartException>(() => fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken));

        Assert.Equal("ELOOP", error.ErrnoName);
        Assert.Equal("check that /proc is a real proc", error.Stage);
    }
}
