using System.Reflection;
using Containers.Runtime;
using Microsoft.Extensions.Logging;

namespace Containers.Tests.Runtime;

public sealed class RuntimeLogTests
{
    [Fact]
    public void Every_log_event_has_its_own_stable_id_in_the_documented_range()
    {
        var ids = typeof(RuntimeLog).GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Select(m => (m.Name, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => (m.Name, m.Attribute!.EventId))
            .ToList();

        Assert.NotEmpty(ids);
        Assert.All(ids, e => Assert.InRange(e.EventId, 1000, 1099));
        var shared = ids.GroupBy(e => e.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Name))}");
        Assert.Empty(shared);
    }
}
