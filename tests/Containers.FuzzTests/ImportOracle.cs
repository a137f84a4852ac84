using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Containers.Images;
using Containers.Tests.Images.Support;

namespace Containers.FuzzTests;

/// <summary>
/// Runs one case against a fresh store that already holds a baseline image, and judges it: the import either
/// succeeds with everything it stored consistent (blobs hash to their digests, layers decompress to their diff ids,
/// the snapshot chain resolves) or fails with exactly one <see cref="ContainersException"/> and the index and blobs as
/// they were. Either way the store reopens and lists the baseline image, and nothing outside the store (the source,
/// a canary beside it, the absolute paths hostile inputs aim at) changed.
/// </summary>
internal static class ImportOracle
{
    private const string BaselineName = "fuzz.example/baseline:1";

    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<List<KeyValuePair<string, byte[]>>> Baseline = new(() =>
        TestImage.Layout(FuzzCase.BaselineLayers, BaselineName));

    /// <summary>Runs the case in <paramref name="directory"/>; returns what happened, and what went wrong (null when nothing did).</summary>
    public static async Task<(string Outcome, string? Failure)> RunAsync(FuzzCase fuzzCase, string directory, CancellationToken cancellationToken)
    {
        foreach (string target in FuzzCase.EscapeTargets)
        {
            DeleteAny(target);
        }

        string outside = Directory.CreateDirectory(Path.Combine(directory, "outside")).FullName;
        File.WriteAllText(Path.Combine(outside, "canary"), "untouched\n");
        string root = Path.Combine(directory, "store");
        var options = new ImageStoreOptions { Root = root };
        Image baseline;
        await using (var store = await ImageStore.OpenAsync(options, cancellationToken))
        {
            string baselineSource = TestImage.WriteDirectory(Baseline.Value, Path.Combine(directory, "baseline"));
            baseline = Assert.Single(await store.ImportAsync(baselineSource, new ImportOptions(), null, cancellationToken));
        }

        string source = fuzzCase.Materialize(directory);
        string outsideBefore = Fingerprint(directory, root);
        string storeBefore = StoreState(root);
        int snapshotsBefore = Snapshots(root);

        var problems = new List<string>();
        string outcome;
        await using (var store = await ImageStore.OpenAsync(options, cancellationToken))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(CaseTimeout);
            IReadOnlyList<Image>? imported = null;
            Exception? error = null;
            try
            {
                imported = await store.ImportAsync(source, new ImportOptions(), null, timeout.Token).WaitAsync(CaseTimeout + TimeSpan.FromSeconds(5), cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                error = e;
            }

            outcome = error is null ? $"imported {imported!.Count} image(s)" : $"refused: {error.GetType().Name}: {error.Message}";
            if (error is TimeoutException or OperationCanceledException)
            {
                problems.Add($"the import did not finish within {CaseTimeout.TotalSeconds} s");
            }
            else if (error is not null and not ContainersException)
            {
                problems.Add($"an untyped error escaped: {error}");
            }
            else if (error is not null)
            {
                if (error.Message.Any(char.IsControl))
                {
                    problems.Add($"the error message holds control characters: {error.Message}");
                }

                if (StoreState(root) != storeBefore)
                {
                    problems.Add($"the import failed ({error.Message}) but changed the index or the blobs");
                }
            }
            else
            {
                foreach (var image in imported!)
                {
                    problems.AddRange(await CheckImportedAsync(store, root, image, cancellationToken));
                }

                // One snapshot per distinct layer at most: a layer listed many times is applied once.
                int distinct = imported.SelectMany(i => i.Config.RootFS.DiffIds).Distinct().Count();
                if (Snapshots(root) - snapshotsBefore > distinct)
                {
                    problems.Add($"the import added {Snapshots(root) - snapshotsBefore} snapshots for {distinct} distinct layers");
                }
            }

            string[] leftovers = Directory.EnumerateFileSystemEntries(Path.Combine(root, "ingest")).Where(e => !e.EndsWith(".lock", StringComparison.Ordinal)).ToArray();
            if (leftovers.Length > 0)
            {
                problems.Add("ingest/ keeps " + string.Join(", ", leftovers));
            }

            if (Directory.Exists(Path.Combine(root, "snapshots")) && Directory.EnumerateDirectories(Path.Combine(root, "snapshots"), "tmp-*").Any())
            {
                problems.Add("an incomplete snapshot (snapshots/tmp-*) was left behind");
            }
        }

        await using (var reopened = await ImageStore.OpenAsync(options, cancellationToken))
        {
            try
            {
                var listed = await reopened.ListAsync(cancellationToken);
                if (!listed.Any(i => i.Digest == baseline.Digest))
                {
                    problems.Add("the store no longer lists the baseline image");
                }

                var chain = await reopened.GetSnapshotChainAsync(BaselineName, cancellationToken);
                if (chain.Count != 2 || !chain.All(Directory.Exists))
                {
                    problems.Add("the baseline image's snapshot chain is broken");
                }
            }
            catch (Exception e)
            {
                problems.Add($"the store does not open and list any more: {e}");
            }
        }

        if (Fingerprint(directory, root) != outsideBefore)
        {
            problems.Add("something outside the store changed (the source, or the canary beside the store)");
        }

        foreach (string target in FuzzCase.EscapeTargets.Where(t => File.Exists(t) || Directory.Exists(t) || new FileInfo(t).LinkTarget is not null))
        {
            problems.Add($"{target} was created: an input escaped the store");
            DeleteAny(target);
        }

        return (outcome, problems.Count == 0 ? null : string.Join(Environment.NewLine, problems));
    }

    private static async Task<List<string>> CheckImportedAsync(ImageStore store, string root, Image image, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        string Blob(Digest digest) => Path.Combine(root, "blobs", digest.Algorithm, digest.Hex);
        foreach (var digest in new[] { image.Digest, image.Manifest.Config.Digest }.Concat(image.Manifest.Layers.Select(l => l.Digest)))
        {
            if (!File.Exists(Blob(digest)) || Hash(digest.Algorithm, File.ReadAllBytes(Blob(digest))) != digest)
            {
                problems.Add($"blob {digest} of the imported image is missing or does not hash to its digest");
            }
        }

        for (int i = 0; i < image.Manifest.Layers.Count && problems.Count == 0; i++)
        {
            var layer = image.Manifest.Layers[i];
            var diffId = DiffId(File.ReadAllBytes(Blob(layer.Digest)), layer.MediaType);
            if (diffId != image.Config.RootFS.DiffIds[i])
            {
                problems.Add($"layer {i} ({layer.Digest}, {layer.MediaType}) was stored but decompresses to {diffId?.ToString() ?? "an error"}, not the diff id {image.Config.RootFS.DiffIds[i]}");
            }
        }

        try
        {
            var chain = await store.GetSnapshotChainAsync(image.Digest.ToString(), cancellationToken);
            if (!chain.All(Directory.Exists) || (image.Manifest.Layers.Count > 0 && chain.Count == 0))
            {
                problems.Add("the imported image's snapshot chain is incomplete");
            }
        }
        catch (ContainersException e)
        {
            problems.Add($"the imported image's snapshot chain does not resolve: {e.Message}");
        }

        return problems;
    }

    /// <summary>The diff id computed here, independently of the library, or null when the blob does not decompress.</summary>
    private static Digest? DiffId(byte[] blob, string mediaType)
    {
        try
        {
            using var input = new MemoryStream(blob);
            using Stream tar = mediaType.EndsWith("gzip", StringComparison.Ordinal) ? new GZipStream(input, CompressionMode.Decompress)
                : mediaType.EndsWith("zstd", StringComparison.Ordinal) ? new ZstdSharp.DecompressionStream(input)
                : input;
            return TestImage.Sha256(ReadAll(tar));
        }
        catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or IOException)
        {
            return null;
        }
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static Digest Hash(string algorithm, byte[] content) =>
        algorithm == "sha512" ? Digest.Parse("sha512:" + Convert.ToHexStringLower(SHA512.HashData(content))) : TestImage.Sha256(content);

    private static int Snapshots(string root) =>
        Directory.Exists(Path.Combine(root, "snapshots", "sha256")) ? Directory.GetDirectories(Path.Combine(root, "snapshots", "sha256")).Length : 0;

    /// <summary>The index and the set of blobs: what a failed import must not change.</summary>
    private static string StoreState(string root) =>
        File.ReadAllText(Path.Combine(root, "index.json")) + "\n"
        + string.Join('\n', Directory.EnumerateFiles(Path.Combine(root, "blobs"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));

    /// <summary>Every entry under <paramref name="directory"/> except the store: type, size, mode, time, link target, content hash.</summary>
    private static string Fingerprint(string directory, string store)
    {
        var text = new StringBuilder();
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", options).OrderBy(e => e.FullName, StringComparer.Ordinal))
        {
            if (entry.FullName == store || entry.FullName.StartsWith(store + "/", StringComparison.Ordinal))
            {
                continue;
            }

            text.Append(entry.FullName).Append(' ').Append(entry.UnixFileMode).Append(' ').Append(entry.LastWriteTimeUtc.Ticks).Append(' ').Append(entry.LinkTarget);
            if (entry is FileInfo file && Native.IsRegularFile(file.FullName))
            {
                text.Append(' ').Append(file.Length).Append(' ').Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file.FullName))));
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static void DeleteAny(string path)
    {
        if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null)
        {
            Directory.Delete(path, recursive: true);
        }
        else if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }
    }
}
