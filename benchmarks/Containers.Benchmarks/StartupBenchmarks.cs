using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Containers.Linux;
using Containers.Runtime;
using Containers.Security.Seccomp;
using Containers.Spec;

namespace Containers.Benchmarks;

/// <summary>
/// Start-to-exit cost of a container against Process.Start of the same program. The container gets new pid,
/// mount, uts and ipc namespaces, a private /, a prepared rootfs on tmpfs (bound onto itself, the host's /usr bound
/// read-only), /proc, pivot_root, then runs /bin/true; its mounts vanish with its mount namespace. Needs root.
/// </summary>
[MemoryDiagnoser]
public class StartupBenchmarks
{
    /// <summary>CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP.</summary>
    private const ulong DockerDefaultCapabilities =
        (1ul << 0) | (1ul << 1) | (1ul << 3) | (1ul << 4) | (1ul << 5) | (1ul << 6) | (1ul << 7) | (1ul << 8) | (1ul << 10)
        | (1ul << 13) | (1ul << 18) | (1ul << 27) | (1ul << 29) | (1ul << 31);

    private const CloneFlags Isolated = CloneFlags.NewPid | CloneFlags.NewNs | CloneFlags.NewUts | CloneFlags.NewIpc;

    private string _rootfs = "";
    private Plan _container = null!;
    private Plan _containerWithNetwork = null!;
    private Plan _containerForkLike = null!;
    private Plan _containerHardened = null!;
    private ContainerRuntime _runtime = null!;
    private ContainerSpec _spec = null!;
    private PreparedContainer _prepared = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (LibC.geteuid() != 0)
        {
            throw new InvalidOperationException("StartupBenchmarks create namespaces and mounts: run them as root");
        }

        // /dev/shm is a tmpfs; the layout follows Debian's merged /usr.
        _rootfs = Path.Combine("/dev/shm", $"containers-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(Path.Combine(_rootfs, "usr"));
        Directory.CreateDirectory(Path.Combine(_rootfs, "proc"));
        foreach (var link in new[] { "bin", "sbin", "lib", "lib64" })
        {
            if (Directory.Exists("/usr/" + link))
            {
                File.CreateSymbolicLink(Path.Combine(_rootfs, link), "usr/" + link);
            }
        }

        _container = Plan(Isolated, forkLike: false);
        _containerWithNetwork = Plan(Isolated | CloneFlags.NewNet, forkLike: false);
        _containerForkLike = Plan(Isolated, forkLike: true);
        _containerHardened = Plan(Isolated, forkLike: false, hardened: true);

        _runtime = ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = _rootfs + "-state" }).GetAwaiter().GetResult();
        _spec = ContainerSpec.For("/bin/true").WithoutNamespace(NamespaceType.Network);
        _prepared = _runtime.Prepare(_spec);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Directory.Delete(_rootfs, recursive: true);
        Directory.Delete(_rootfs + "-state", recursive: true);
    }

    [Benchmark(Baseline = true)]
    public async Task ProcessStart()
    {
        using var process = Process.Start("/bin/true");
        await process.WaitForExitAsync();
    }

    [Benchmark]
    public Task ContainerStart() => Run(_container);

    [Benchmark]
    public Task ContainerStartWithNetwork() => Run(_containerWithNetwork);

    /// <summary>The same as <see cref="ContainerStart"/> cloned without CLONE_VM (page tables copied).</summary>
    [Benchmark]
    public Task ContainerStartForkLike() => Run(_containerForkLike);

    /// <summary>
    /// <see cref="ContainerStart"/> with what a default container adds for safety: no_new_privs, Docker's default
    /// capabilities, and the default seccomp profile (compiled once, from the cache, as every start gets it).
    /// </summary>
    [Benchmark]
    public Task ContainerStartHardened() => Run(_containerHardened);

    /// <summary>
    /// The whole public path on the default host rootfs (tmpfs root, read-only binds of /usr, /bin, /lib*, /etc):
    /// spec validation, plan compilation, state entry, the default /dev, /sys and masked
    /// paths, stdio pipes collected to the end, then delete — what <see cref="ContainerRuntime.RunAsync"/> users pay.
    /// </summary>
    [Benchmark]
    public async Task RuntimeRun()
    {
        var result = await _runtime.RunAsync(_spec, CancellationToken.None);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"the container exited with {result.Exit}");
        }
    }

    /// <summary>
    /// <see cref="RuntimeRun"/> from a spec prepared once (<see cref="ContainerRuntime.Prepare"/>): the same
    /// container without validation, the program's lookup and compilation per start.
    /// </summary>
    [Benchmark]
    public async Task PreparedRun()
    {
        var result = await _prepared.RunAsync(CancellationToken.None);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"the container exited with {result.Exit}");
        }
    }

    private static async Task Run(Plan plan)
    {
        await using var child = ChildProcess.Launch(plan);
        var status = await child.WaitAsync(CancellationToken.None);
        if (status.ExitCode != 0)
        {
            await child.WaitForExecAsync(CancellationToken.None);
            throw new InvalidOperationException($"the container {status}");
        }
    }

    private Plan Plan(CloneFlags namespaces, bool forkLike, bool hardened = false)
    {
        var plan = new PlanBuilder(namespaces);
        if (forkLike)
        {
            plan.ForkLike();
        }

        plan.MakePrivate()
            .Bind(_rootfs, _rootfs, recursive: false)
            .Root(_rootfs)
            .Bind("/usr", "/usr", recursive: false, readOnly: true)
            .Mount("proc", "/proc", "proc", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec)
            .PivotRoot()
            .ChangeDirectory("/");
        if (hardened)
        {
            plan.Prctl(38, 1) // PR_SET_NO_NEW_PRIVS
                .CapSet(DockerDefaultCapabilities, DockerDefaultCapabilities, 0)
                .Seccomp(SeccompCompiler.CompileForThisMachine(SeccompProfiles.Default).Bytes, SeccompCompiler.CompileForThisMachine(SeccompProfiles.Default).Flags);
        }

        return plan.CloseOtherFds([])
            .Exec("/bin/true", ["true"], ["PATH=/usr/bin:/bin"])
            .Build();
    }
}
