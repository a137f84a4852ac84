using System.Globalization;
using System.Runtime.CompilerServices;

namespace Containers.IntegrationTests.Support;

/// <summary>
/// How much slower than a real one this machine runs: 1 on a host, more in an emulated guest, where every instruction
/// costs many of the host's (build/v2guest.sh sets <c>CONTAINERS_TEST_TIME_FACTOR</c> for its TCG CPU). Stretches
/// timeouts and deadlines only, the hang guards of a test; what a test asserts stays the same.
/// </summary>
internal static class TestTime
{
    /// <summary>The variable that sets <see cref="Factor"/>: a whole number from 1 to 100.</summary>
    public const string FactorVariable = "CONTAINERS_TEST_TIME_FACTOR";

    /// <summary>The stretch of every timeout (1 unless <see cref="FactorVariable"/> says otherwise).</summary>
    public static int Factor { get; } = ReadFactor();

    /// <summary><paramref name="timeout"/> on this machine.</summary>
    public static TimeSpan Scale(TimeSpan timeout) => timeout * Factor;

    /// <summary><paramref name="milliseconds"/> on this machine.</summary>
    public static int Scale(int milliseconds) => checked(milliseconds * Factor);

    private static int ReadFactor()
    {
        var text = Environment.GetEnvironmentVariable(FactorVariable);
        if (string.IsNullOrEmpty(text))
        {
            return 1;
        }

        // A typo must not quietly shorten or drop a guard: refuse it loudly at discovery.
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var factor) && factor is >= 1 and <= 100
            ? factor
            : throw new InvalidOperationException($"{FactorVariable}='{text}': give a whole number from 1 to 100");
    }
}

/// <summary>
/// A fact whose timeout (milliseconds on a real machine) is stretched by <see cref="TestTime.Factor"/>, for the tests
/// that also run in the emulated cgroup v2 guest.
/// </summary>
/// <example><c>[ScaledFact(60_000)] public async Task Something() { ... }</c></example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class ScaledFactAttribute : FactAttribute
{
    public ScaledFactAttribute(int timeout, [CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        Timeout = TestTime.Scale(timeout);
    }
}
