using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Containers.Linux;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Benchmarks;

/// <summary>
/// Start-to-exit cost of a container against Process.Start of the same program (/bin/true), through the public
/// API first. <see cref="ContainerStart"/> is the minimal isolated start from a prepared container: new pid, mount,
/// uts and ipc namespaces, a rootfs directory on tmpfs with the host's /usr bound read-only and its loader cache, /proc, pivot_root, the
/// exec helper, state entry and wait. <see cref="RuntimeRun"/> is <see cref="ContainerRuntime.RunAsync(ContainerSpec, ContainerRunOptions?, CancellationToken)"/>
/// of the default spec (a new network namespace too, the default /dev, /sys and masked paths, output collected).
/// The concurrent pair starts 64 at once. <see cref="PlanStart"/> is the inner reference: the same isolation as
/// <see cref="ContainerStart"/> as a raw plan (no state, no helper, no lookup). <see cref="ContainerStart"/> runs without
/// seccomp and no_new_privs, <see cref="ContainerStartHardened"/> with them, as a default spec has them. Needs root.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class StartupBenchmarks
{
    private const int Concurrency = 64;
    private const CloneFlags Isolated = CloneFlags.NewPid | CloneFlags.NewNs | CloneFlags.NewUts | CloneFlags.NewIpc;

    private string _rootfs = "";
    private Plan _plan = null!;
    private ContainerRuntime _runtime = null!;
    private ContainerSpec _spec = null!;
    private PreparedContainer _minimal = null!;
    private PreparedContainer _hardened = null!;
    private PreparedContainer _limited = null!;
    private PreparedContainer _prepared = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (LibC.geteuid() != 0)
        {
            throw new InvalidOperationException("StartupBenchmarks create namespaces and mounts: run them as root");
        }

        // /dev/shm is a tmpfs; the layout follows Debian's merged /usr.
        _rootfs = Path.Combine("/dev/shm", $"containers-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(_rootfs, "usr"));
        Directory.CreateDirectory(Path.Combine(_rootfs, "proc"));
        // The dynamic loader's cache, as every real root has it: without it /bin/true's loader probes a dozen library
        // paths that Process.Start's run of the same program (with the host's cache) does not.
        Directory.CreateDirectory(Path.Combine(_rootfs, "etc"));
        File.Copy("/etc/ld.so.cache", Path.Combine(_rootfs, "etc", "ld.so.cache"));
        foreach (var link in new[] { "bin", "sbin", "lib", "lib64" })
        {
            if (Directory.Exists("/usr/" + link))
            {
                File.CreateSymbolicLink(Path.Combine(_rootfs, link), "usr/" + link);
            }
        }

        _plan = Plan(Isolated);
        _runtime = ContainerRuntime.OpenAsync(new ContainerRuntimeOptions { StateDirectory = _rootfs + "-state" }).GetAwaiter().GetResult();
        _spec = ContainerSpec.For("/bin/true");
        _prepared = _runtime.Prepare(_spec);
        // /usr/bin/true: the program is looked up in the rootfs as it will be, /usr bound in, when prepared.
        var minimal = ContainerSpec.For("/usr/bin/true").WithRootfs(_rootfs).WithoutNamespace(NamespaceType.Network) with
        {
            Mounts = [MountSpec.Bind("/usr", "/usr", readOnly: true), new MountSpec { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] }],
        };
        minimal = minimal with { Linux = minimal.Linux! with { MaskedPaths = [], ReadonlyPaths = [] } };

        // The minimal start without what a default spec adds for safety, and with it (as ContainerSpec.For gives it).
        _minimal = _runtime.Prepare(minimal.WithPrivileged());
        _hardened = _runtime.Prepare(minimal);
        _limited = _runtime.Prepare(_minimal.Spec.WithMemoryLimit(256L << 20).WithPidsLimit(64).WithCpuLimit(1));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_rootfs, recursive: true);
        Directory.Delete(_rootfs + "-state", recursive: true);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("One")]
    public async Task ProcessStart()
    {
        using var process = Process.Start("/bin/true");
        await process.WaitForExitAsync();
    }

    /// <summary>The minimal isolated container from a prepared spec, run to its exit through the public API.</summary>
    [Benchmark]
    [BenchmarkCategory("One")]
    public Task ContainerStart() => RunAsync(_minimal);

    /// <summary>
    /// <see cref="ContainerStart"/> with memory, pids and CPU limits: a cgroup per start, created and limited before
    /// the clone, cloned into (v2) or joined by the child itself first thing (v1), removed after its exit.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory("One")]
    public Task ContainerStartWithLimits() => RunAsync(_limited);

    /// <summary>
    /// <see cref="ContainerStart"/> with the safety a default spec adds: no_new_privs and the default seccomp profile
    /// (compiled once and cached, so a start only loads it).
    /// </summary>
    [Benchmark]
    [BenchmarkCategory("One")]
    public Task ContainerStartHardened() => RunAsync(_hardened);

    /// <summary>
    /// The whole public path with the default spec: validation, plan compilation, state entry, a new network
    /// namespace (from the runtime's pool when one is ready), the default /dev, /sys and masked paths, stdio pipes
    /// collected to the end, then delete — what <see cref="ContainerRuntime.RunAsync(ContainerSpec, ContainerRunOptions?, CancellationToken)"/> users pay.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory("One")]
    public async Task RuntimeRun() => Check(await _runtime.RunAsync(_spec, CancellationToken.None));

    /// <summary><see cref="RuntimeRun"/> from a spec prepared once: no validation, lookup or compilation per start.</summary>
    [Benchmark]
    [BenchmarkCategory("One")]
    public Task PreparedRun() => RunAsync(_prepared);

    /// <summary>The inner reference: <see cref="ContainerStart"/>'s isolation as a raw plan, without the runtime.</summary>
    [Benchmark]
    [BenchmarkCategory("One")]
    public Task PlanStart() => Run(_plan);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Concurrent64")]
    public Task ProcessStartConcurrent() => Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => ProcessStart()));

    [Benchmark]
    [BenchmarkCategory("Concurrent64")]
    public Task RuntimeRunConcurrent() => Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => RuntimeRun()));

    private static async Task RunAsync(PreparedContainer prepared) => Check(await prepared.RunAsync(CancellationToken.None));

    private static void Check(ContainerResult result)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"the container exited with {result.Exit}: {result.Stderr}");
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

    private Plan Plan(CloneFlags namespaces)
    {
        return new PlanBuilder(namespaces).MakePrivate()
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
