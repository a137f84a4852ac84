using System.Runtime.InteropServices;
using Containers.IntegrationTests.Runtime;
using Containers.IntegrationTests.Support;
using Containers.Runtime;
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
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
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

    /// <summary>
    /// CVE-2021-30465: while the runtime sets up a container's binds, another process (here a thread of the test;
    /// in the attack, a container sharing the volume) swaps the directory that holds the mount points with a
    /// symlink, over and over (<c>renameat2(RENAME_EXCHANGE)</c>). The symlink is absolute and names the host path
    /// of the rootfs's <c>/escaped</c>: a runtime that resolved a mount target with the host's rules even once
    /// would mount the source there, where the container finds it. Resolved beneath the root
    /// (<c>RESOLVE_IN_ROOT</c>, then mounted on the fd) the same link points inside the root, at a path that holds
    /// no mount point: the bind lands there or the start fails cleanly. 50 starts of 20 binds: 1 000 raced targets.
    /// </summary>
    [Fact(Timeout = 600_000)]
    public async Task CVE_2021_30465_a_mount_target_swapped_for_a_symlink_never_mounts_outside_the_root()
    {
        const int starts = 50;
        const int binds = 20;
        var token = TestContext.Current.CancellationToken;
        using var fixture = new RuntimeFixture();
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName;
        var source = Directory.CreateDirectory(Path.Combine(_dir, "volume")).FullName;
        var marker = "from-the-volume-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(Path.Combine(source, marker), "volume\n");
        File.Copy(Path.Combine(EscapeProgram.HostDirectory, "escape"), Path.Combine(rootfs, "escape"));
        var spec = ContainerSpec.For("/escape", "find=" + marker).WithRootfs(rootfs);
        for (var i = 0; i < binds; i++)
        {
            Directory.CreateDirectory(Path.Combine(rootfs, "vol", "t" + i));
            Directory.CreateDirectory(Path.Combine(rootfs, "escaped", "t" + i));
            spec = spec.WithBindMount(source, "/vol/t" + i, readOnly: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(rootfs, "escape"), (UnixFileMode)0x1ed);
        }

        var link = Path.Combine(rootfs, "vol-link");
        File.CreateSymbolicLink(link, Path.Combine(rootfs, "escaped"));
        using var stop = new CancellationTokenSource();
        long swaps = 0;
        var swapper = new Thread(() =>
        {
            var vol = Path.Combine(rootfs, "vol");
            while (!stop.IsCancellationRequested)
            {
                if (Renameat2(AtFdCwd, vol, AtFdCwd, link, RenameExchange) == 0)
                {
                    swaps++;
                }
            }
        }) { IsBackground = true };
        swapper.Start();

        int ran = 0, failed = 0, redirected = 0;
        var escaped = new List<string>();
        try
        {
            for (var attempt = 0; attempt < starts; attempt++)
            {
                try
                {
                    var result = await fixture.Runtime.RunAsync(spec, token);
                    Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
                    ran++;
                    foreach (var found in result.Stdout.Split('\n').Where(l => l.StartsWith("found ", StringComparison.Ordinal)).Select(l => l[6..]))
                    {
                        if (found.StartsWith("/escaped/", StringComparison.Ordinal))
                        {
                            escaped.Add(found);
                        }
                        else if (!found.StartsWith("/vol/", StringComparison.Ordinal) && !found.StartsWith("/vol-link/", StringComparison.Ordinal))
                        {
                            redirected++; // the link followed beneath the root: <root>/<host path of the rootfs>/escaped
                        }
                    }
                }
                catch (ContainerStartException)
                {
                    // The link, resolved beneath the root, led where no mount point was: a clean refusal.
                    failed++;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            swapper.Join();
        }

        Assert.True(escaped.Count == 0, $"{escaped.Count} binds mounted outside the root, at {string.Join(", ", escaped.Distinct().Take(5))}...");
        Assert.Equal(starts, ran + failed);
        // The race was real: the swaps ran through the starts, and some binds met the link (redirected or refused).
        Assert.True(swaps > starts, $"only {swaps} swaps");
        Assert.True(failed + redirected > 0, $"no bind met the link in {starts} starts ({swaps} swaps)");
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    /// <summary>
    /// CVE-2025-52565: a rootfs whose <c>/dev/console</c> is a symlink, started with a terminal. A runtime that binds
    /// the terminal onto <c>/dev/console</c> by path follows the link with the host's rules: here it names the host
    /// path of the rootfs's <c>/target</c>, which would turn into a character device in the container (and, aimed at
    /// a file of the host's <c>/proc</c>, would cover what the masks protect). This runtime never binds a console:
    /// the terminal is the container's own devpts, <c>/target</c> stays a file, and the link, read in the
    /// container, points at a path inside its root that does not exist.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task CVE_2025_52565_a_dev_console_symlink_is_never_followed_to_bind_the_terminal()
    {
        using var fixture = new RuntimeFixture();
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName;
        var target = Path.Combine(rootfs, "target");
        File.WriteAllText(target, "a file\n");
        Directory.CreateDirectory(Path.Combine(rootfs, "dev"));
        File.CreateSymbolicLink(Path.Combine(rootfs, "dev", "console"), target);
        File.CreateSymbolicLink(Path.Combine(rootfs, "dev", "ptmx"), "pts/ptmx"); // the terminal's, from the container's devpts
        File.Copy(Path.Combine(EscapeProgram.HostDirectory, "escape"), Path.Combine(rootfs, "escape"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(rootfs, "escape"), (UnixFileMode)0x1ed);
        }

        // Without the default tmpfs on /dev, the rootfs's own /dev (and its link) is what the container sees.
        var spec = ContainerSpec.For("/escape", "console", "kind=/target").WithRootfs(rootfs).WithTerminal();
        spec = spec with { Mounts = [.. spec.Mounts.Where(m => m.Destination != "/dev")] };

        var ct = TestContext.Current.CancellationToken;
        await using var container = await fixture.Runtime.CreateAsync(spec, ct);
        Assert.NotNull(container.Terminal);
        await container.StartAsync(ct);
        var output = await Runtime.TerminalOutput.ReadToEndAsync(container.Terminal);

        Assert.Equal(0, (await container.WaitAsync(ct)).ExitCode);
        Assert.Contains("console ENOENT", output, StringComparison.Ordinal);
        Assert.Contains("kind file", output, StringComparison.Ordinal);
        Assert.Equal("a file\n", File.ReadAllText(target));
    }

    /// <summary>
    /// CVE-2025-31133: a rootfs whose <c>/dev/null</c> is a symlink to a file of <c>/proc</c>. A runtime that masks
    /// paths by binding the container's <c>/dev/null</c> binds that file instead, writable, over every masked file,
    /// past the read-only <c>/proc/sys</c> (aimed at <c>core_pattern</c>, a path to running code on the host). Here the
    /// link names the container's own <c>/proc/sys/kernel/hostname</c>, a decoy that a landed write shows through the
    /// container's UTS name. This runtime masks with the host's <c>/dev/null</c>, checked to be the null device: the
    /// masked <c>/proc/keys</c> is that device, reads empty, and the write into it goes nowhere.
    /// </summary>
    [Fact(Timeout = 60_000)]
    public async Task CVE_2025_31133_a_dev_null_symlink_is_never_the_source_of_a_mask()
    {
        using var fixture = new RuntimeFixture();
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName;
        Directory.CreateDirectory(Path.Combine(rootfs, "dev"));
        File.CreateSymbolicLink(Path.Combine(rootfs, "dev", "null"), "/proc/sys/kernel/hostname");
        File.Copy(Path.Combine(EscapeProgram.HostDirectory, "escape"), Path.Combine(rootfs, "escape"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(rootfs, "escape"), (UnixFileMode)0x1ed);
        }

        // Without the default tmpfs on /dev, the rootfs's own /dev (and its link) is what the container sees.
        var spec = ContainerSpec.For("/escape", "kind=/dev/null", "write=/proc/keys", "kind=/proc/keys", "keys", "uname")
            .WithRootfs(rootfs).WithHostname("decoy");
        spec = spec with { Mounts = [.. spec.Mounts.Where(m => m.Destination != "/dev")] };
        Assert.Contains("/proc/keys", spec.Linux!.MaskedPaths);

        var result = await fixture.Runtime.RunAsync(spec, TestContext.Current.CancellationToken);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["kind other", "write written", "kind chardev", "keys 0"], lines[..^1]);
        Assert.StartsWith("uname decoy/", lines[^1], StringComparison.Ordinal);
    }

    /// <summary>
    /// CVE-2025-52881: a write the runtime makes is redirected, by a racing container that shares a mount with this
    /// one, onto a file of the container's <c>/proc</c>. The only content this runtime's child writes into a container
    /// is its secrets; the attack aims them at <c>/proc/sys/kernel</c>: while the child sets up the secrets' tmpfs on
    /// <c>/run/secrets</c> with <c>hostname</c> and <c>domainname</c> in it, a thread of the test swaps
    /// <c>/run/secrets</c> with a symlink to <c>/proc/sys/kernel</c> (<c>renameat2(RENAME_EXCHANGE)</c>). A runtime
    /// that mounts the tmpfs and then writes by path sets the container's host and domain name (the decoys:
    /// per-container sysctls, so a landed write harms nothing but is seen) or leaves a secret in the rootfs on disk
    /// (the tmpfs went elsewhere): the previous shim did both within 50 starts. <c>/proc/sys</c> is left writable here,
    /// so the read-only path is not what stops it. The secrets are written through the tmpfs's own fd before it is
    /// attached, so the race can only move the whole mount (over <c>/proc/sys/kernel</c>, which the container then
    /// sees as a tmpfs: the test counts those starts and goes on until 20 did, or 1 000 starts).
    /// </summary>
    [Fact(Timeout = 600_000)]
    public async Task CVE_2025_52881_a_secret_write_raced_onto_proc_never_lands_there()
    {
        const int wanted = 20;
        const int maxStarts = 1_000;
        var token = TestContext.Current.CancellationToken;
        using var fixture = new RuntimeFixture();
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName;
        var run = Directory.CreateDirectory(Path.Combine(rootfs, "run")).FullName;
        var secrets = Directory.CreateDirectory(Path.Combine(run, "secrets")).FullName;
        var link = Path.Combine(run, "link");
        File.CreateSymbolicLink(link, "/proc/sys/kernel");
        File.Copy(Path.Combine(EscapeProgram.HostDirectory, "escape"), Path.Combine(rootfs, "escape"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(rootfs, "escape"), (UnixFileMode)0x1ed);
        }

        var spec = ContainerSpec.For("/escape", "uname", "fstype=/proc/sys/kernel").WithRootfs(rootfs).WithHostname("decoy");
        spec = spec with { Linux = spec.Linux! with { ReadonlyPaths = [.. spec.Linux.ReadonlyPaths.Where(p => p != "/proc/sys")] } };
        var prepared = fixture.Runtime.Prepare(spec, new ContainerCreateOptions
        {
            Secrets = [ContainerSecret.FromBytes("hostname", "redirected"u8), ContainerSecret.FromBytes("domainname", "redirected"u8)],
        });

        using var stop = new CancellationTokenSource();
        long swaps = 0;
        var swapper = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (Renameat2(AtFdCwd, secrets, AtFdCwd, link, RenameExchange) == 0)
                {
                    swaps++;
                }
            }
        }) { IsBackground = true };
        swapper.Start();

        int starts = 0, ran = 0, raced = 0;
        var landed = new List<string>();
        var failures = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            while (raced < wanted && starts < maxStarts)
            {
                starts++;
                try
                {
                    var result = await prepared.RunAsync(token);
                    Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
                    ran++;
                    var outcomes = EscapeProgram.Outcomes(result.Stdout);
                    var names = outcomes.GetValueOrDefault("uname") ?? "";
                    if (names != "decoy/(none)")
                    {
                        landed.Add("uname " + names);
                    }

                    var kernel = outcomes.GetValueOrDefault("fstype") ?? "";
                    Assert.True(kernel is "proc" or "tmpfs", $"/proc/sys/kernel is {kernel}");
                    raced += kernel == "tmpfs" ? 1 : 0; // the secrets' mount met the link
                }
                catch (ContainerStartException e)
                {
                    var key = $"{e.Stage}: {e.ErrnoName}";
                    failures[key] = failures.GetValueOrDefault(key) + 1;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            swapper.Join();
        }

        // A secret written into the directory while the tmpfs was mounted elsewhere stays there, on disk; whichever
        // name the directory has now (the swapper stopped), it must be empty.
        var directory = new DirectoryInfo(secrets).LinkTarget is null ? secrets : link;
        landed.AddRange(Directory.EnumerateFileSystemEntries(directory));
        var seen = string.Join("; ", failures.Select(f => $"{f.Value}x {f.Key}"));
        Assert.True(landed.Count == 0, $"{landed.Count} writes landed where the link led: {string.Join(", ", landed.Distinct().Take(5))} (failures: {seen})");
        Assert.True(raced > 0, $"the secrets' mount never met the link in {starts} starts ({swaps} swaps; failures: {seen})");
        Assert.Equal(starts, ran + failures.Values.Sum());
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    private const int AtFdCwd = -100;
    private const uint RenameExchange = 2;

    [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    private static extern int Renameat2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);
}
