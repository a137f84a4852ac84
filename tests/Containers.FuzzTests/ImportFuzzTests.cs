using System.Globalization;
using System.Runtime.Versioning;

namespace Containers.FuzzTests;

/// <summary>
/// The seeded import fuzzer, one test per case number. CI runs cases 0–299; <c>build/fuzz.sh N</c> runs more by
/// setting <c>CONTAINERS_FUZZ_FIRST</c> and <c>CONTAINERS_FUZZ_CASES</c>, and <c>CONTAINERS_FUZZ_OUT</c> to a
/// directory where each failing case is written as a reproducer (its source, what was mutated, what went wrong).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class ImportFuzzTests
{
    private const int DefaultCases = 300;

    public static TheoryData<int> Cases
    {
        get
        {
            int first = Setting("CONTAINERS_FUZZ_FIRST", 0);
            int count = Setting("CONTAINERS_FUZZ_CASES", DefaultCases);
            return new TheoryData<int>(Enumerable.Range(first, count));
        }
    }

    [Theory(Timeout = 120_000)]
    [MemberData(nameof(Cases), DisableDiscoveryEnumeration = true)]
    public async Task An_import_of_a_mutated_source_succeeds_consistently_or_fails_with_one_typed_error(int number)
    {
        var fuzzCase = FuzzCase.Generate(number);
        string baseDir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string directory = Directory.CreateDirectory(Path.Combine(baseDir, $"containers-fuzz-{Environment.ProcessId}-{number}")).FullName;
        try
        {
            var (outcome, failure) = await ImportOracle.RunAsync(fuzzCase, directory, TestContext.Current.CancellationToken);
            TestContext.Current.TestOutputHelper?.WriteLine($"{fuzzCase}{Environment.NewLine}{outcome}");
            if (failure is not null)
            {
                string? reproducer = Reproducer.Write(fuzzCase, failure);
                Assert.Fail($"{fuzzCase}{Environment.NewLine}{failure}{(reproducer is null ? string.Empty : Environment.NewLine + "reproducer: " + reproducer)}");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : fallback;
}
