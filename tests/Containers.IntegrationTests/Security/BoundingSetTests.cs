using System.Globalization;
using Containers.IntegrationTests.Runtime;
using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Security;

/// <summary>
/// The capability bounding set a container ends with, whichever launch thread it was cloned from: the default set
/// comes from a thread that dropped the rest once (as root), any other set is dropped in the child; and no other
/// thread of this process loses a capability on the way.
/// </summary>
public sealed class BoundingSetTests
{
    private const string LaunchThreadName = "containers-lbnd";

    /// <summary>Docker's default set less CAP_MKNOD, by capability number (linux/capability.h).</summary>
    private static readonly int[] DefaultCapabilities = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 29, 31];

    [Fact(Timeout = 120_000)]
    public async Task Containers_get_exactly_their_bounding_set_and_the_hosts_other_threads_keep_theirs()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        var host = ReadCapBnd("/proc/self/status");
        var defaults = DefaultCapabilities.Aggregate(0UL, (mask, cap) => mask | (1UL << cap)) & host;
        const string probe = "while read k v; do [ \"$k\" = CapBnd: ] && echo $v; done < /proc/self/status; exit 0";

        // Default set (the reduced launch thread as root), a set of its own (dropped in the child), and the
        // host's full set (privileged), each twice and at once, so both threads serve starts concurrently.
        var spec = ContainerSpec.For("/bin/sh", "-c", probe);
        var custom = spec.WithCapabilitiesDropped("CAP_KILL");

        // The builder starts from Docker's full list, CAP_MKNOD (27) included.
        var customSet = (defaults | (1UL << 27)) & ~(1UL << 5) & host;
        var runs = await Task.WhenAll(
            from s in new[] { spec, custom, spec.WithPrivileged(), spec, custom }
            select fixture.Runtime.RunAsync(s, ct));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Stderr));
        Assert.Equal(
            [defaults, customSet, host, defaults, customSet],
            runs.Select(r => ulong.Parse(r.Stdout.Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture)));

        // An exec into a default container gets the default set too.
        await using (var container = await fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/sleep", "30"), ct))
        {
            await container.StartAsync(ct);
            await using var exec = await container.ExecAsync(["/bin/sh", "-c", probe], ct);
            await exec.Stdin.CompleteAsync();
            var result = await exec.CollectAsync(ct);
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Equal(defaults, ulong.Parse(result.Stdout.Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            await container.KillAsync(ct);
        }

        var threads = Threads();
        Assert.All(threads.Where(t => t.Name != LaunchThreadName), t => Assert.True(t.CapBnd == host, $"thread {t.Name} has CapBnd {t.CapBnd:x16}, the process {host:x16}"));
        var reduced = threads.Where(t => t.Name == LaunchThreadName).ToList();
        if (Requires.IsRoot)
        {
            // Root holds CAP_SETPCAP: the default set has its own launch thread, and only that set has one.
            var thread = Assert.Single(reduced);
            Assert.Equal(defaults, thread.CapBnd);
        }
        else
        {
            // A rootless container is in a user namespace, whose bounding set the kernel makes full: no thread helps.
            Assert.Empty(reduced);
        }
    }

    private static List<(string Name, ulong CapBnd)> Threads()
    {
        var threads = new List<(string, ulong)>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                threads.Add((File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'), ReadCapBnd(Path.Combine(task, "status"))));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
            {
                // A pool thread that retired meanwhile.
            }
        }

        return threads;
    }

    private static ulong ReadCapBnd(string status) =>
        ulong.Parse(File.ReadLines(status).Single(l => l.StartsWith("CapBnd:", StringComparison.Ordinal))[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
