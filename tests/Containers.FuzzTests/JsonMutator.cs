using System.Text.Json.Nodes;

namespace Containers.FuzzTests;

/// <summary>Changes one node of a JSON document: null, removed, another type, an edge value, duplicated, swapped.</summary>
internal static class JsonMutator
{
    private static readonly string[] Strings =
    [
        string.Empty,
        "x",
        new string('a', 5000),
        "\u001b[31mred\u0007\u007f",
        "sha256:" + new string('a', 64),
        "sha256:short",
        "sha512:" + new string('b', 128),
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "../../../../tmp/containers-fuzz-escape",
        "/tmp/containers-fuzz-escape",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "layers",
        "linux",
        "arm64",
        "2024-13-45T99:99:99Z",
        "\ud800",
    ];

    private static readonly double[] Numbers = [-1, 0, 1, 2, 3, 2147483648, 9007199254740993, 1e300, -9.2233720368547758E+18, 3.5];

    /// <summary>Mutates one node of <paramref name="root"/> in place and says which.</summary>
    public static string Mutate(JsonNode root, Random random, string document)
    {
        var nodes = new List<(JsonNode Parent, string? Key, int Index, string Path)>();
        Collect(root, "$", nodes);
        if (nodes.Count == 0)
        {
            return $"{document}: nothing to mutate";
        }

        var (parent, key, index, path) = nodes[random.Next(nodes.Count)];
        JsonNode? current = key is not null ? parent[key] : parent[index];
        int operation = random.Next(10);
        JsonNode? replacement;
        string what;
        switch (operation)
        {
            case 0:
                replacement = null;
                what = "null";
                break;
            case 1:
                if (key is not null)
                {
                    parent.AsObject().Remove(key);
                }
                else
                {
                    parent.AsArray().RemoveAt(index);
                }

                return $"{document} {path}: removed";
            case 2:
                double number = Numbers[random.Next(Numbers.Length)];
                replacement = number == Math.Floor(number) && Math.Abs(number) < 1e18 ? JsonValue.Create((long)number) : JsonValue.Create(number);
                what = $"number {number}";
                break;
            case 3:
                string text = Strings[random.Next(Strings.Length)];
                replacement = JsonValue.Create(text);
                what = $"string #{Array.IndexOf(Strings, text)}";
                break;
            case 4:
                replacement = JsonValue.Create(random.Next(2) == 0);
                what = "bool";
                break;
            case 5:
                replacement = new JsonArray();
                what = "[]";
                break;
            case 6:
                replacement = new JsonObject();
                what = "{}";
                break;
            case 7 when current is JsonArray array && array.Count > 0:
                int times = random.Next(1, 5);
                var element = array[random.Next(array.Count)];
                for (int i = 0; i < times; i++)
                {
                    array.Add(element?.DeepClone());
                }

                return $"{document} {path}: an element repeated {times} more times";
            case 8 when current is JsonObject obj:
                obj["unknown" + random.Next(100)] = random.Next(2) == 0 ? null : JsonValue.Create("extra");
                return $"{document} {path}: unknown field added";
            default:
                var (otherParent, otherKey, otherIndex, otherPath) = nodes[random.Next(nodes.Count)];
                JsonNode? other = otherKey is not null ? otherParent[otherKey] : otherParent[otherIndex];
                replacement = other?.DeepClone();
                what = $"copy of {otherPath}";
                break;
        }

        if (key is not null)
        {
            parent[key] = replacement;
        }
        else
        {
            parent[index] = replacement;
        }

        return $"{document} {path}: {what}";
    }

    private static void Collect(JsonNode node, string path, List<(JsonNode, string?, int, string)> nodes)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    nodes.Add((obj, key, -1, $"{path}.{key}"));
                    if (child is not null)
                    {
                        Collect(child, $"{path}.{key}", nodes);
                    }
                }

                break;
            case JsonArray array:
                for (int i = 0; i < array.Count; i++)
                {
                    nodes.Add((array, null, i, $"{path}[{i}]"));
                    if (array[i] is { } child)
                    {
                        Collect(child, $"{path}[{i}]", nodes);
                    }
                }

                break;
        }
    }
}
