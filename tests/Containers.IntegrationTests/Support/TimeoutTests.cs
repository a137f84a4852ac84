using System.Reflection;

namespace Containers.IntegrationTests.Support;

/// <summary>
/// A hung container, pipe or mount must fail its own test, not stall the suite until CI's outer timeout: every test
/// here declares a timeout, and xunit enforces one only on a test that returns a task.
/// </summary>
public sealed class TimeoutTests
{
    [Fact(Timeout = 60_000)]
    public Task Every_integration_test_is_asynchronous_and_has_a_timeout()
    {
        var tests = typeof(TimeoutTests).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(method => (Method: method, Fact: method.GetCustomAttribute<FactAttribute>()))
            .Where(test => test.Fact is not null)
            .ToList();

        var offenders = tests
            .Where(test => test.Fact!.Timeout <= 0
                || !(typeof(Task).IsAssignableFrom(test.Method.ReturnType) || test.Method.ReturnType == typeof(ValueTask)))
            .Select(test => $"{test.Method.DeclaringType!.Name}.{test.Method.Name}");

        Assert.True(tests.Count > 50, $"the scan found only {tests.Count} tests");
        Assert.Empty(offenders);
        return Task.CompletedTask;
    }
}
