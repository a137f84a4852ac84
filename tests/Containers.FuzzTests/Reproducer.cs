namespace Containers.FuzzTests;

/// <summary>Writes a failing case to <c>$CONTAINERS_FUZZ_OUT/case-N/</c>: its source as imported, the mutations, the failure.</summary>
internal static class Reproducer
{
    public static string? Write(FuzzCase fuzzCase, string failure)
    {
        string? output = Environment.GetEnvironmentVariable("CONTAINERS_FUZZ_OUT");
        if (string.IsNullOrEmpty(output))
        {
            return null;
        }

        string target = Path.Combine(output, $"case-{fuzzCase.Number}");
        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }

        Directory.CreateDirectory(target);
        string fresh = Directory.CreateDirectory(Path.Combine(target, "input")).FullName;
        string source = fuzzCase.Materialize(fresh);
        File.WriteAllText(Path.Combine(target, "README"), $"""
            {fuzzCase}

            Failure:
            {failure}

            Run this case again:     build/fuzz.sh --case {fuzzCase.Number}
            Import it by hand:       containers import {source} --root $(mktemp -d)
            """);
        return target;
    }
}
