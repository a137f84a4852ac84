using System.Diagnostics;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Containers.Images;
using Containers.Linux;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Benchmarks;

/// <summary>
/// Start-to-exit cost of a container whose root is an image, against Process.Start of the same program
/// (<c>/bin/true</c>). The image has five layers (a static busybox with <c>/bin/true</c> in the first, one small file
/// in each of the others), built with tar and imported into a store on tmpfs once. <see cref="RunFromImageAsync"/> is
/// the public path: <c>ContainerRuntime.RunFromImageAsync("bench:5", …)</c> looks the image up, makes the spec from
/// its config and runs it. Every run of <see cref="RunFromImage"/> (the same start from a container prepared once)
/// creates the container's upper and work directories and its image lease, mounts the
/// overlay of the five snapshots in the child, runs the default spec, and removes it all again. The other benchmarks
/// take it apart: the same overlay without a store (no lease), the default spec on the host rootfs (no overlay), and
/// the container's directories and lease made and removed without a start. Needs root and
/// <c>/bin/busybox</c> (Debian's busybox-static).
/// </summary>
[MemoryDiagnoser]
public class ImageStartBenchmarks
{
    private const int Layers = 5;

    private static readonly ImageContainerOptions TrueCommand = new() { Command = ["/bin/true"] };

    private string _root = "";
    private ImageStore _store = null!;
    private ContainerRuntime _runtime = null!;
    private PreparedContainer _prepared = null!;
    private PreparedContainer _directories = null!;
    private PreparedContainer _host = null!;
    private OverlayRootfs _rootfs = null!;
    private ContainerStorage _storage = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (LibC.geteuid() != 0 || !File.Exists("/bin/busybox"))
        {
            throw new InvalidOperationException("ImageStartBenchmarks need root and /bin/busybox (busybox-static)");
        }

        _root = Path.Combine("/dev/shm", $"containers-image-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(_root);
        var archive = BuildArchive(_root);
        _store = ImageStore.OpenAsync(new ImageStoreOptions { Root = Path.Combine(_root, "store") }).GetAwaiter().GetResult();
        _store.ImportAsync(archive, "bench:5", progress: null, CancellationToken.None).GetAwaiter().GetResult();
        var rootfs = OverlayRootfs.FromImageAsync(_store, "bench:5").GetAwaiter().GetResult();
        _runtime = ContainerRuntime.OpenAsync(new ContainerRuntimeOptions
        {
            StateDirectory = Path.Combine(_root, "state"),
            StorageDirectory = Path.Combine(_root, "store", "containers"),
            Images = _store,
        }).GetAwaiter().GetResult();
        _prepared = _runtime.Prepare(ContainerSpec.For("/bin/true"), new ContainerCreateOptions { Overlay = rootfs });
        _directories = _runtime.Prepare(ContainerSpec.For("/bin/true"), new ContainerCreateOptions { Overlay = OverlayRootfs.FromDirectories(rootfs.LowerDirectories) });
        _host = _runtime.Prepare(ContainerSpec.For("/bin/true"));
        _rootfs = rootfs;
        _storage = new ContainerStorage(Path.Combine(_root, "store", "containers"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public async Task ProcessStart()
    {
        using var process = Process.Start("/bin/true");
        await process.WaitForExitAsync();
    }

    [Benchmark]
    public async Task<int?> RunFromImageAsync() => (await _runtime.RunFromImageAsync("bench:5", TrueCommand, CancellationToken.None)).ExitCode;

    [Benchmark]
    public async Task<int?> RunFromImage() => (await _prepared.RunAsync()).ExitCode;

    /// <summary>The same overlay of the same five snapshots, as directories of the caller's own: no store, no lease.</summary>
    [Benchmark]
    public async Task<int?> RunFromDirectories() => (await _directories.RunAsync()).ExitCode;

    /// <summary>The default spec on the host rootfs (no overlay, no container directory): the start without the image.</summary>
    [Benchmark]
    public async Task<int?> RunOnHost() => (await _host.RunAsync()).ExitCode;

    /// <summary>The image's part on the host alone: the container's directories and lease made and removed, nothing started.</summary>
    [Benchmark]
    public async Task StorageAndLease()
    {
        var folder = _storage.Create(_runtime.StateDirectory, "bench");
        var lease = await _store.LeaseAsync(_rootfs.Image!.Value, (_rootfs.Config!.Value, _rootfs.LowerDirectories), folder, CancellationToken.None);
        ContainerStorage.Remove(folder);
        File.Delete(lease);
    }

    /// <summary>As <see cref="StorageAndLease"/> without the lease.</summary>
    [Benchmark]
    public void StorageOnly()
    {
        var folder = _storage.Create(_runtime.StateDirectory, "bench");
        ContainerStorage.Remove(folder);
    }

    /// <summary>A docker-archive of <see cref="Layers"/> uncompressed layers made with tar.</summary>
    private static string BuildArchive(string root)
    {
        var stage = Path.Combine(root, "stage");
        Directory.CreateDirectory(stage);
        var diffIds = new List<string>();
        for (var i = 0; i < Layers; i++)
        {
            var content = Path.Combine(root, "content");
            if (i == 0)
            {
                Directory.CreateDirectory(Path.Combine(content, "bin"));
                File.Copy("/bin/busybox", Path.Combine(content, "bin", "busybox"));
                File.CreateSymbolicLink(Path.Combine(content, "bin", "true"), "busybox");
            }
            else
            {
                Directory.CreateDirectory(Path.Combine(content, "etc"));
                File.WriteAllText(Path.Combine(content, "etc", $"layer{i}"), $"{i}\n");
            }

            var layer = Path.Combine(stage, $"{i}.tar");
            Run("tar", "--numeric-owner", "-cf", layer, "-C", content, ".");
            using (var stream = File.OpenRead(layer))
            {
                diffIds.Add("sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream)));
            }

            Directory.Delete(content, recursive: true);
        }

        File.WriteAllText(Path.Combine(stage, "config.json"),
            """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[""" + string.Join(',', diffIds.Select(d => $"\"{d}\"")) + "]}}");
        var files = string.Join(',', Enumerable.Range(0, Layers).Select(i => $"\"{i}.tar\""));
        File.WriteAllText(Path.Combine(stage, "manifest.json"), $$"""[{"Config":"config.json","RepoTags":["bench:5"],"Layers":[{{files}}]}]""");
        var archive = Path.Combine(root, "bench.tar");
        Run("tar", "-cf", archive, "-C", stage, ".");
        Directory.Delete(stage, recursive: true);
        return archive;
    }

    private static void Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {stderr}");
        }
    }
}
