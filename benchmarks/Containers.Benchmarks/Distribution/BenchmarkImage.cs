using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Containers.Images;

namespace Containers.Benchmarks.Distribution;

/// <summary>
/// A ~200 MB image of five gzip layers (each a different slice of the host's /usr/lib and /usr/share, so the
/// content compresses as real layers do), written once as an OCI layout under tmpfs and reused by later runs.
/// </summary>
internal static class BenchmarkImage
{
    public const string Tag = "bench";
    private const int LayerCount = 5;
    private const long LayerTarBytes = 72L << 20;

    /// <summary>The layout directory holding the image tagged <see cref="Tag"/>.</summary>
    public static string EnsureLayout(string cacheDirectory)
    {
        string layout = Path.Combine(cacheDirectory, "layout");
        if (File.Exists(Path.Combine(layout, "index.json")))
        {
            return layout;
        }

        string blobs = Path.Combine(layout, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        var files = ListHostFiles();
        var layers = new List<(Digest Digest, long Size, Digest DiffId)>();
        int next = 0;
        for (int i = 0; i < LayerCount; i++)
        {
            var names = new List<string>();
            long bytes = 0;
            while (next < files.Count && bytes < LayerTarBytes)
            {
                names.Add(files[next].Path);
                bytes += 512 + ((files[next].Size + 511) / 512 * 512);
                next++;
            }

            string list = Path.Combine(cacheDirectory, $"layer-{i}.list");
            string tar = Path.Combine(cacheDirectory, $"layer-{i}.tar");
            File.WriteAllLines(list, names);
            Run("tar", "-C", "/", "--no-recursion", "-T", list, "-cf", tar);
            var diffId = HashFile(tar);
            Run("pigz", "-6", "-f", tar);
            var digest = HashFile(tar + ".gz");
            long size = new FileInfo(tar + ".gz").Length;
            File.Move(tar + ".gz", Path.Combine(blobs, digest.Hex), overwrite: true);
            File.Delete(list);
            layers.Add((digest, size, diffId));
        }

        string diffIds = string.Join(",", layers.Select(l => $"\"{l.DiffId}\""));
        byte[] config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + diffIds + "]}}");
        var configDigest = Write(blobs, config);
        string layerJson = string.Join(",", layers.Select(l => "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + l.Digest + "\",\"size\":" + l.Size.ToString(CultureInfo.InvariantCulture) + "}"));
        byte[] manifest = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
            + configDigest + "\",\"size\":" + config.Length.ToString(CultureInfo.InvariantCulture) + "},\"layers\":[" + layerJson + "]}");
        var manifestDigest = Write(blobs, manifest);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllText(
            Path.Combine(layout, "index.json"),
            "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest + "\",\"size\":"
                + manifest.Length.ToString(CultureInfo.InvariantCulture) + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + Tag + "\"}}]}");
        return layout;
    }

    public static void Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        _ = output.Result;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {error}");
        }
    }

    private static Digest Write(string blobs, byte[] content)
    {
        var digest = Digest.Sha256(content);
        File.WriteAllBytes(Path.Combine(blobs, digest.Hex), content);
        return digest;
    }

    private static Digest HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Digest.FromSha256Hash(SHA256.HashData(stream));
    }

    /// <summary>Regular files of /usr/lib and /usr/share (find(1) does not follow links), in path order.</summary>
    private static List<(long Size, string Path)> ListHostFiles()
    {
        var find = new ProcessStartInfo("find", ["usr/lib", "usr/share", "-xdev", "-type", "f", "-printf", "%s %p\\n"]) { WorkingDirectory = "/", RedirectStandardOutput = true };
        var files = new List<(long, string)>();
        using var process = Process.Start(find)!;
        while (process.StandardOutput.ReadLine() is string line)
        {
            string[] parts = line.Split(' ', 2);
            files.Add((long.Parse(parts[0], CultureInfo.InvariantCulture), parts[1]));
        }

        process.WaitForExit();
        files.Sort((a, b) => string.CompareOrdinal(a.Item2, b.Item2));
        return files;
    }
}
