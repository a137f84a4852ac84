using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Tests.Images.Support;

/// <summary>One layer of a <see cref="TestImage"/>: its uncompressed tar and how its blob is compressed.</summary>
/// <param name="Tar">The uncompressed tar; its sha256 is the diff id.</param>
/// <param name="Gzip">Whether the blob is gzip-compressed (else a plain tar).</param>
internal sealed record TestLayer(byte[] Tar, bool Gzip)
{
    /// <summary>The blob as stored; defaults to <see cref="Tar"/>, gzip'd when <see cref="Gzip"/>.</summary>
    public byte[]? Blob { get; init; }

    /// <summary>The diff id the config claims; defaults to the tar's sha256.</summary>
    public Digest? DiffId { get; init; }

    public byte[] BlobBytes => Blob ?? (Gzip ? TestImage.GzipBytes(Tar) : Tar);

    public Digest ClaimedDiffId => DiffId ?? TestImage.Sha256(Tar);

    public string MediaType => Gzip ? TestImage.OciLayerGzip : TestImage.OciLayer;
}

/// <summary>
/// Builds images in memory for tests: the documents as JSON trees a test may change (any field, any value), then
/// digests computed bottom-up (layers, config, manifest, index) so a change reaches the reader that should judge it
/// instead of failing the digest check first. The same image can be written as an OCI layout directory, an
/// oci-archive or a docker-archive.
/// </summary>
internal static class TestImage
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

    public static readonly DateTimeOffset Epoch = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>A small layer: a directory, two files and a symlink, with <paramref name="salt"/> in one file.</summary>
    public static byte[] LayerTar(string salt) => Tar(writer =>
    {
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "etc/") { Mode = (UnixFileMode)0x1ED, ModificationTime = Epoch });
        writer.WriteEntry(File("etc/hostname", "test\n"));
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "data/") { Mode = (UnixFileMode)0x1ED, ModificationTime = Epoch });
        writer.WriteEntry(File("data/" + salt + ".txt", "content of " + salt + "\n"));
        writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "data/link") { LinkName = salt + ".txt", ModificationTime = Epoch });
    });

    public static PaxTarEntry File(string name, string content) => new(TarEntryType.RegularFile, name)
    {
        DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
        Mode = (UnixFileMode)0x1A4,
        ModificationTime = Epoch,
    };

    public static byte[] Tar(Action<TarWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>A tar of whole files, in order (an oci-archive or docker-archive).</summary>
    public static byte[] Archive(IEnumerable<KeyValuePair<string, byte[]>> files) => Tar(writer =>
    {
        foreach (var (name, data) in files)
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1A4, ModificationTime = Epoch });
        }
    });

    public static byte[] GzipBytes(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return buffer.ToArray();
    }

    public static Digest Sha256(byte[] data) => Digest.FromSha256Hash(SHA256.HashData(data));

    public static byte[] Json(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    public static JsonObject Config(IEnumerable<TestLayer> layers) => new()
    {
        ["created"] = "2024-01-02T03:04:05Z",
        ["architecture"] = Platform.Host.Architecture,
        ["os"] = "linux",
        ["config"] = new JsonObject { ["Cmd"] = new JsonArray("/bin/sh"), ["Env"] = new JsonArray("PATH=/bin"), ["Labels"] = new JsonObject { ["a"] = "b" } },
        ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(layers.Select(l => (JsonNode)l.ClaimedDiffId.ToString()).ToArray()) },
        ["history"] = new JsonArray(new JsonObject { ["created_by"] = "test" }),
    };

    /// <summary>
    /// The files of an OCI layout (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/…</c>), in that order.
    /// Each edit runs on its document after the digests it contains are known and before its own digest is taken.
    /// </summary>
    public static List<KeyValuePair<string, byte[]>> Layout(
        IReadOnlyList<TestLayer> layers,
        string? name = "test.example/image:1",
        Action<JsonObject>? editConfig = null,
        Action<JsonObject>? editManifest = null,
        Action<JsonObject>? editIndex = null)
    {
        var blobs = new List<KeyValuePair<string, byte[]>>();
        void Add(byte[] data) => blobs.Add(new("blobs/sha256/" + Sha256(data).Hex, data));

        var layerDescriptors = new JsonArray();
        foreach (var layer in layers)
        {
            byte[] blob = layer.BlobBytes;
            Add(blob);
            layerDescriptors.Add(new JsonObject { ["mediaType"] = layer.MediaType, ["digest"] = Sha256(blob).ToString(), ["size"] = blob.Length });
        }

        var config = Config(layers);
        editConfig?.Invoke(config);
        byte[] configBytes = Json(config);
        Add(configBytes);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = TestImage.OciManifest,
            ["config"] = new JsonObject { ["mediaType"] = TestImage.OciConfig, ["digest"] = Sha256(configBytes).ToString(), ["size"] = configBytes.Length },
            ["layers"] = layerDescriptors,
        };
        editManifest?.Invoke(manifest);
        byte[] manifestBytes = Json(manifest);
        Add(manifestBytes);
        var entry = new JsonObject { ["mediaType"] = TestImage.OciManifest, ["digest"] = Sha256(manifestBytes).ToString(), ["size"] = manifestBytes.Length };
        if (name is not null)
        {
            entry["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = name };
        }

        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = TestImage.OciIndex, ["manifests"] = new JsonArray(entry) };
        editIndex?.Invoke(index);
        var files = new List<KeyValuePair<string, byte[]>>
        {
            new("oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}")),
            new("index.json", Json(index)),
        };
        files.AddRange(blobs.DistinctBy(b => b.Key));
        return files;
    }

    /// <summary>The files of a docker-archive (<c>docker save</c>): config, <c>DIFFID/layer.tar</c> per layer, <c>manifest.json</c>.</summary>
    public static List<KeyValuePair<string, byte[]>> DockerArchive(
        IReadOnlyList<TestLayer> layers,
        string? name = "test.example/image:1",
        Action<JsonObject>? editConfig = null,
        Action<JsonArray>? editManifest = null)
    {
        var files = new List<KeyValuePair<string, byte[]>>();
        var config = Config(layers);
        editConfig?.Invoke(config);
        byte[] configBytes = Json(config);
        string configName = Sha256(configBytes).Hex + ".json";
        files.Add(new(configName, configBytes));
        var layerNames = new JsonArray();
        foreach (var layer in layers)
        {
            string layerName = layer.ClaimedDiffId.Hex + "/layer.tar";
            if (!files.Any(f => f.Key == layerName))
            {
                files.Add(new(layerName, layer.BlobBytes));
            }

            layerNames.Add(layerName);
        }

        var manifest = new JsonArray(new JsonObject
        {
            ["Config"] = configName,
            ["RepoTags"] = name is null ? new JsonArray() : new JsonArray(name),
            ["Layers"] = layerNames,
        });
        editManifest?.Invoke(manifest);
        files.Add(new("manifest.json", Json(manifest)));
        return files;
    }

    /// <summary>Writes files under <paramref name="directory"/>, creating parent directories.</summary>
    public static string WriteDirectory(IEnumerable<KeyValuePair<string, byte[]>> files, string directory)
    {
        foreach (var (name, data) in files)
        {
            string path = Path.Combine(directory, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            System.IO.File.WriteAllBytes(path, data);
        }

        return directory;
    }
}
