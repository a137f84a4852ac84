using System.Text;
using System.Text.Json.Nodes;
using Containers.Tests.Images.Layers;
using Containers.Tests.Images.Support;

namespace Containers.FuzzTests;

/// <summary>The four kinds of input the fuzzer mutates.</summary>
internal enum SourceForm
{
    OciDirectory,
    OciArchive,
    DockerArchive,
    LayerTar,
}

/// <summary>
/// One fuzz case: an import source derived from its number alone (a <see cref="Random"/> seeded with it), so a
/// failing case is reproduced by running that number again. <see cref="Steps"/> says what was mutated.
/// </summary>
internal sealed class FuzzCase
{
    /// <summary>Absolute paths a hostile input aims at; none may exist after any case.</summary>
    public static readonly string[] EscapeTargets = ["/tmp/containers-fuzz-escape", "/dev/shm/containers-fuzz-escape"];

    /// <summary>The layers of the image every case's store holds before the case runs.</summary>
    public static readonly TestLayer[] BaselineLayers = [new(TestImage.LayerTar("base-a"), Gzip: true), new(TestImage.LayerTar("base-b"), Gzip: false)];

    private readonly List<KeyValuePair<string, byte[]>> _files;
    private readonly List<(string Name, string Operation)> _fileSystemEdits = [];
    private byte[]? _archive;

    private FuzzCase(int number, SourceForm form, List<KeyValuePair<string, byte[]>> files)
    {
        Number = number;
        Form = form;
        _files = files;
    }

    public int Number { get; }

    public SourceForm Form { get; }

    public List<string> Steps { get; } = [];

    public static FuzzCase Generate(int number)
    {
        var random = new Random(number);
        var form = (SourceForm)(number % 4);
        var steps = new List<string> { $"form {form}" };
        var layers = new List<TestLayer>();
        int count = random.Next(1, 4);
        for (int i = 0; i < count; i++)
        {
            layers.Add(new TestLayer(TestImage.LayerTar($"f{number}x{i}"), Gzip: random.Next(2) == 0));
        }

        if (form == SourceForm.LayerTar)
        {
            int which = random.Next(layers.Count);
            byte[] tar = LayerMutator.HostileTar(random, steps);
            bool keepDiffId = random.Next(20) != 0;
            layers[which] = new TestLayer(tar, layers[which].Gzip) { DiffId = keepDiffId ? null : TestImage.Sha256(Encoding.ASCII.GetBytes("stale")) };
            steps.Add($"layer {which} replaced{(keepDiffId ? string.Empty : ", diff id stale")}");
        }

        if (random.Next(8) == 0)
        {
            // A layer the store already has a snapshot of (the baseline's), claimed by a blob with other content.
            var known = BaselineLayers[random.Next(BaselineLayers.Length)];
            byte[] impostor = random.Next(3) switch
            {
                0 => ByteMutator.Mutate(known.BlobBytes, random, out _),
                1 => TestImage.GzipBytes(TestImage.LayerTar("impostor")),
                _ => known.Gzip ? known.Tar : TestImage.GzipBytes(known.Tar),
            };
            int which = random.Next(layers.Count);
            layers[which] = known with { Blob = impostor };
            steps.Add($"layer {which} claims the baseline's diff id {known.ClaimedDiffId.Hex[..12]} with other content");
        }

        switch (random.Next(40))
        {
            case 0:
                int repeat = random.Next(2, 120);
                layers = Enumerable.Repeat(layers[0], repeat).Concat(layers.Skip(1)).ToList();
                steps.Add($"first layer listed {repeat} times");
                break;
            case 1:
                layers = Enumerable.Repeat(layers[0], 501).ToList();
                steps.Add("501 layers");
                break;
        }

        int edits = form == SourceForm.LayerTar ? random.Next(2) : random.Next(4);
        var targets = Enumerable.Range(0, edits).Select(_ => (Document: random.Next(form == SourceForm.DockerArchive ? 2 : 3), Seed: random.Next())).ToList();
        void Edit(int document, JsonNode root)
        {
            foreach (var (target, seed) in targets.Where(t => t.Document == document))
            {
                steps.Add(JsonMutator.Mutate(root, new Random(seed), document switch { 0 => "config", 1 => "manifest", _ => "index" }));
            }
        }

        string? name = random.Next(8) == 0 ? null : $"fuzz.example/case{number}:1";
        var files = form == SourceForm.DockerArchive
            ? TestImage.DockerArchive(layers, name, c => Edit(0, c), m => Edit(1, m))
            : TestImage.Layout(layers, name, c => Edit(0, c), m => Edit(1, m), i => Edit(2, i));
        var fuzzCase = new FuzzCase(number, form, files);
        fuzzCase.Steps.AddRange(steps);

        if (random.Next(4) == 0)
        {
            int which = random.Next(files.Count);
            files[which] = new(files[which].Key, ByteMutator.Mutate(files[which].Value, random, out string what));
            fuzzCase.Steps.Add($"{files[which].Key}: {what}");
        }

        if (form is SourceForm.OciDirectory or SourceForm.LayerTar && random.Next(10) == 0)
        {
            string target = files[random.Next(files.Count)].Key;
            string operation = random.Next(4) switch { 0 => "fifo", 1 => "symlink-out", 2 => "directory", _ => "delete" };
            fuzzCase._fileSystemEdits.Add((target, operation));
            fuzzCase.Steps.Add($"{target}: replaced by {operation}");
        }

        if (form is SourceForm.OciArchive or SourceForm.DockerArchive)
        {
            fuzzCase._archive = ArchiveMutator.Build(files, random, fuzzCase.Steps);
        }

        return fuzzCase;
    }

    /// <summary>Writes the source under <paramref name="directory"/> and returns the path to import.</summary>
    public string Materialize(string directory)
    {
        if (_archive is not null)
        {
            string path = Path.Combine(directory, "source.tar");
            File.WriteAllBytes(path, _archive);
            return path;
        }

        string layout = TestImage.WriteDirectory(_files, Path.Combine(directory, "source"));
        foreach (var (name, operation) in _fileSystemEdits)
        {
            string path = Path.Combine(layout, name);
            File.Delete(path);
            switch (operation)
            {
                case "fifo":
                    if (Native.Mkfifo(path, 0x180) != 0)
                    {
                        throw new IOException($"mkfifo {path} failed");
                    }

                    break;
                case "symlink-out":
                    File.CreateSymbolicLink(path, Path.Combine(directory, "outside", "canary"));
                    break;
                case "directory":
                    Directory.CreateDirectory(path);
                    break;
            }
        }

        return layout;
    }

    public override string ToString() => $"case {Number}: {string.Join("; ", Steps)}";
}
