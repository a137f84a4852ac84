using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Containers.Cgroups;
using Containers.Linux;
using Containers.Runtime;
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
    private const CloneFlags Isolated = CloneFlags.NewPid | CloneFlags.NewNs | CloneFlags.NewUts | CloneFlags.NewIpc;

    private string _rootfs = "";
    private Plan _container = null!;
    private Plan _containerWithNetwork = null!;
    private Plan _containerForkLike = null!;
    private ContainerRuntime _runtime = null!;
    private ContainerSpec _spec = null!;
    private PreparedContainer _prepared = null!;
    private ICgroupDriver _cgroups = null!;
    private Plan _containerInCgroup = null!;
    private int _cgroupCount;

    /// <summary>Docker-like limits: 256 MiB, 64 tasks, one CPU.</summary>
    private static readonly LinuxResources Limits = new()
    {
        Memory = new LinuxMemory { Limit = 256L << 20 },
        Pids = new LinuxPids(64),
        Cpu = new LinuxCpu { Quota = 100_000, Period = 100_000 },
    };

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
        _cgroups = CgroupDriver.Detect(null, _rootfs + "-state");
        _containerInCgroup = Plan(Isolated, forkLike: false, cgroup: _cgroups.ClonesIntoCgroup ? CgroupPlacementKind.Clone : CgroupPlacementKind.Join);

        _runtime = ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = _rootfs + "-state" }).GetAwaiter().GetResult();
        _spec = ContainerSpec.For("/bin/true").WithoutNamespace(NamespaceType.Network);
        _prepared = _runtime.Prepare(_spec);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _cgroups.RemoveEmptyParent();
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

    /// <summary>
    /// <see cref="ContainerStart"/> plus memory, pids and CPU limits, as the runtime does it: a cgroup created and
    /// limited before the clone, the child cloned into it (v2) or joined while it waits (v1), removed after its exit.
    /// </summary>
    [Benchmark]
    public async Task ContainerStartWithLimits()
    {
        var cgroup = _cgroups.Create("bench-" + _cgroupCount++.ToString(System.Globalization.CultureInfo.InvariantCulture), Limits);
        try
        {
            if (_cgroups.ClonesIntoCgroup)
            {
                using var dir = cgroup.OpenDirectory();
                await Run(_containerInCgroup, dir);
            }
            else
            {
                await Run(_containerInCgroup, null, cgroup);
            }
        }
        finally
        {
            await cgroup.DeleteAsync(CancellationToken.None);
        }
    }

    /// <summary>The same as <see cref="ContainerStart"/> cloned without CLONE_VM (page tables copied).</summary>
    [Benchmark]
    public Task ContainerStartForkLike() => Run(_containerForkLike);

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

    private static async Task Run(Plan plan, Microsoft.Win32.SafeHandles.SafeFileHandle? cgroupDir = null, ICgroup? join = null)
    {
        await using var child = ChildProcess.Launch(plan, cgroupDir is null ? null : [cgroupDir]);
        if (join is not null)
        {
            join.Join(child.Pid);
            child.Continue();
        }

        var status = await child.WaitAsync(CancellationToken.None);
        if (status.ExitCode != 0)
        {
            await child.WaitForExecAsync(CancellationToken.None);
            throw new InvalidOperationException($"the container {status}");
        }
    }

    private enum CgroupPlacementKind
    {
        None,
        Clone,
        Join,
    }

    private Plan Plan(CloneFlags namespaces, bool forkLike, CgroupPlacementKind cgroup = CgroupPlacementKind.None)
    {
        var plan = new PlanBuilder(namespaces);
        if (cgroup == CgroupPlacementKind.Clone)
        {
            plan.IntoCgroup(plan.ImportFd());
        }
        else if (cgroup == CgroupPlacementKind.Join)
        {
            plan.WaitForParent("wait to join the cgroup");
        }

        if (forkLike)
        {
            plan.ForkLike();
        }

        return plan.MakePrivate()
            .Bind(_rootfs, _rootfs, recursive: false)
            .Root(_rootfs)
            .Bind("/usr", "/usr", recursive: false, readOnly: true)
            .Mount("proc", "/proc", "proc", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec)
            .PivotRoot()
            .ChangeDirectory("/")
            .CloseOtherFds([])
            .Exec("/bin/true", ["true"], ["PATH=/usr/bin:/bin"])
            .Build();
    }
}
