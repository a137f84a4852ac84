using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

public sealed class PreparedContainerTests
{
    [Fact(Timeout = 120_000)]
    public async Task A_prepared_spec_starts_many_identical_containers_one_after_another_and_at_once()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        var prepared = fixture.Runtime.Prepare(ContainerSpec.For("/bin/sh", "-c", "echo $$ $(hostname); echo err >&2; exit 3").WithHostname("box"));

        var results = new List<ContainerResult>();
        for (var i = 0; i < 5; i++)
        {
            results.Add(await prepared.RunAsync(ct));
        }

        results.AddRange(await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => prepared.RunAsync(ct))));

        Assert.All(results, r =>
        {
            Assert.Equal(3, r.ExitCode);
            Assert.Equal("1 box\n", r.Stdout);
            Assert.Equal("err\n", r.Stderr);
        });
        Assert.Empty(await fixture.Runtime.ListAsync(ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_prepared_spec_creates_containers_with_their_own_ids_and_state()
    {
        using var fixture = new RuntimeFixture();
        var ct = TestContext.Current.CancellationToken;
        var prepared = fixture.Runtime.Prepare(ContainerSpec.For("/bin/cat"), new ContainerCreateOptions { Stdio = ContainerStdio.Null });

        await using var first = await prepared.CreateAsync("first", ct);
        await using var second = await prepared.CreateAsync("second", ct);
        await Assert.ThrowsAsync<ContainerAlreadyExistsException>(() => prepared.CreateAsync("first", ct));

        Assert.Equal(["first", "second"], (await fixture.Runtime.ListAsync(ct)).Select(s => s.Id).Order());
        Assert.NotEqual(first.Pid, second.Pid);
        await first.StartAsync(ct);
        await second.StartAsync(ct);
        Assert.Equal(0, (await first.WaitAsync(ct)).ExitCode);
        Assert.Equal(0, (await second.WaitAsync(ct)).ExitCode);
    }

    [Fact(Timeout = 30_000)]
    public async Task Preparing_checks_the_spec_and_the_program_before_anything_is_created()
    {
        using var fixture = new RuntimeFixture();

        Assert.Throws<InvalidSpecException>(() => fixture.Runtime.Prepare(ContainerSpec.For()));
        Assert.Throws<ExecutableNotFoundException>(() => fixture.Runtime.Prepare(ContainerSpec.For("/usr/bin/no-such-program")));
        Assert.Empty(await fixture.Runtime.ListAsync(TestContext.Current.CancellationToken));
    }
}
