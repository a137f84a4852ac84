using System.Diagnostics;

namespace Containers.IntegrationTests.Support;

/// <summary>
/// Images made by real tools for the image tests: a two-layer busybox image built with <c>umoci</c> from Debian's
/// busybox-static, and its skopeo conversions. Built once per test process into a temp directory; tests that modify
/// a fixture copy it first.
/// </summary>
internal static class ImageFixtures
{
    /// <summary>The tag of the busybox image inside its OCI layout.</summary>
    public const string Tag = "latest";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? s_busybox;

    /// <summary>
    /// An OCI layout with one image tagged <see cref="Tag"/>: layer 1 has <c>/bin/busybox</c>, the symlink
    /// <c>/bin/sh</c>, the hard link <c>/bin/ls</c> and <c>/etc/</c>; layer 2 deletes <c>/bin/sh</c> (whiteout) and
    /// adds <c>/etc/hello</c>. Do not modify it; copy it with <see cref="CopyDirectory"/>.
    /// </summary>
    public static async Task<string> BusyboxLayoutAsync()
    {
        Requires.Tool("umoci");
        Assert.SkipUnless(File.Exists("/bin/busybox"), "needs /bin/busybox (Debian package busybox-static)");
        await Gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (s_busybox is null)
            {
                string root = Directory.CreateTempSubdirectory("containers-fixture-").FullName;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(root, recursive: true);
                s_busybox = await BuildBusyboxAsync(root);
            }

            return s_busybox;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Converts the layout's image to an oci-archive named <paramref name="name"/> with skopeo.</summary>
    public static async Task<string> ToOciArchiveAsync(string layout, string file, string name)
    {
        Requires.Tool("skopeo");
        await RunAsync("skopeo", "copy", "-q", $"oci:{layout}:{Tag}", $"oci-archive:{file}:{name}");
        return file;
    }

    /// <summary>Converts the layout's image to a docker-archive (docker save form) named <paramref name="name"/> with skopeo.</summary>
    public static async Task<string> ToDockerArchiveAsync(string layout, string file, string name)
    {
        Requires.Tool("skopeo");
        await RunAsync("skopeo", "copy", "-q", $"oci:{layout}:{Tag}", $"docker-archive:{file}:{name}");
        return file;
    }

    /// <summary>
    /// A docker-archive made with <c>tar</c>: one uncompressed layer holding <paramref name="megabytes"/> MiB of random
    /// data, named <paramref name="name"/>. Big enough that an import takes a noticeable time.
    /// </summary>
    public static async Task<string> RandomDockerArchiveAsync(string directory, int megabytes, string name)
    {
        string stage = Path.Combine(directory, "stage");
        string content = Path.Combine(directory, "content");
        Directory.CreateDirectory(Path.Combine(content, "data"));
        Directory.CreateDirectory(stage);
        await using (var random = File.Create(Path.Combine(content, "data", "random.bin")))
        {
            var buffer = new byte[1 << 20];
            for (int i = 0; i < megabytes; i++)
            {
                Random.Shared.NextBytes(buffer);
                await random.WriteAsync(buffer);
            }
        }

        string layer = Path.Combine(stage, "layer.tar");
        await RunAsync("tar", "--numeric-owner", "-cf", layer, "-C", content, "data");
        string diffId;
        await using (var stream = File.OpenRead(layer))
        {
            diffId = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream));
        }

        Directory.CreateDirectory(Path.Combine(stage, diffId));
        File.Move(layer, Path.Combine(stage, diffId, "layer.tar"));
        string config = """{"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z","config":{"Cmd":["/data"]},"rootfs":{"type":"layers","diff_ids":["sha256:"""
            + diffId + "\"]}}";
        string configHex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(config)));
        await File.WriteAllTextAsync(Path.Combine(stage, configHex + ".json"), config);
        await File.WriteAllTextAsync(Path.Combine(stage, "manifest.json"), $$"""[{"Config":"{{configHex}}.json","RepoTags":["{{name}}"],"Layers":["{{diffId}}/layer.tar"]}]""");
        string archive = Path.Combine(directory, "random.tar");
        await RunAsync("tar", "-cf", archive, "-C", stage, ".");
        Directory.Delete(stage, recursive: true);
        Directory.Delete(content, recursive: true);
        return archive;
    }

    /// <summary>Runs a tool, failing the test with its stderr when it exits non-zero; returns its stdout.</summary>
    public static async Task<string> RunAsync(string tool, params string[] arguments)
    {
        var (exit, stdout, stderr) = await RunUncheckedAsync(tool, arguments);
        Assert.True(exit == 0, $"{tool} {string.Join(' ', arguments)} exited {exit}: {stderr}");
        return stdout;
    }

    /// <summary>Runs a tool and returns its exit code and output.</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunUncheckedAsync(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Copies a directory tree of regular files (an OCI layout).</summary>
    public static string CopyDirectory(string source, string target)
    {
        foreach (var directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories).Prepend(source))
        {
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, directory)));
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file)));
        }

        return target;
    }

    private static async Task<string> BuildBusyboxAsync(string root)
    {
        string layout = Path.Combine(root, "busybox");
        string bundle = Path.Combine(root, "bundle");
        string image = $"{layout}:{Tag}";
        string[] rootless = Requires.IsRoot ? [] : ["--rootless"];
        await RunAsync("umoci", "init", "--layout", layout);
        await RunAsync("umoci", "new", "--image", image);
        await RunAsync("umoci", ["unpack", .. rootless, "--image", image, bundle]);
        string rootfs = Path.Combine(bundle, "rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin", "busybox"));
        File.CreateSymbolicLink(Path.Combine(rootfs, "bin", "sh"), "busybox");
        await RunAsync("ln", Path.Combine(rootfs, "bin", "busybox"), Path.Combine(rootfs, "bin", "ls"));
        await RunAsync("umoci", "repack", "--image", image, bundle);
        await RunAsync("umoci", "config", "--image", image, "--config.cmd", "sh", "--config.env", "PATH=/bin");
        Directory.Delete(bundle, recursive: true);
        await RunAsync("umoci", ["unpack", .. rootless, "--image", image, bundle]);
        File.Delete(Path.Combine(rootfs, "bin", "sh"));
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "hello"), "hello\n");
        await RunAsync("umoci", "repack", "--image", image, bundle);
        Directory.Delete(bundle, recursive: true);
        return layout;
    }
}
