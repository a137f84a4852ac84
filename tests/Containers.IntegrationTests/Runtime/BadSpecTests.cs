using Containers.IntegrationTests.Support;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.IntegrationTests.Runtime;

public sealed class BadSpecTests
{
    [Fact(Timeout = 60_000)]
    public async Task Empty_args_are_rejected_before_anything_is_created()
    {
        using var fixture = new RuntimeFixture();
        var error = await Assert.ThrowsAsync<InvalidSpecException>(() => fixture.Runtime.CreateAsync(ContainerSpec.For(), TestContext.Current.CancellationToken));

        Assert.Contains(error.Errors, e => e.JsonPath == "process.args");
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_relative_root_path_is_rejected()
    {
        using var fixture = new RuntimeFixture();
        var error = await Assert.ThrowsAsync<InvalidSpecException>(
            () => fixture.Runtime.CreateAsync(ContainerSpec.For("/bin/true").WithRootfs("relative/rootfs"), TestContext.Current.CancellationToken));

        Assert.Contains(error.Errors, e => e.JsonPath.StartsWith("root", StringComparison.Ordinal));
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unknown_namespace_in_config_json_is_rejected()
    {
        var error = Assert.Throws<InvalidSpecException>(() => ContainerSpec.FromJson(
            """{"process":{"args":["/bin/true"],"cwd":"/"},"linux":{"namespaces":[{"type":"galaxy"}]}}"""));

        Assert.Contains("galaxy", error.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_executable_is_rejected_before_anything_is_created()
    {
        using var fixture = new RuntimeFixture();
        var error = await Assert.ThrowsAsync<ExecutableNotFoundException>(
            () => fixture.Runtime.CreateAsync(ContainerSpec.For("/usr/bin/no-such-program"), TestContext.Current.CancellationToken));

        Assert.Equal("/usr/bin/no-such-program", error.Executable);
        Assert.Empty(StateEntries.Of(fixture.StateDirectory));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_program_name_is_looked_up_in_the_containers_PATH()
    {
        using var fixture = new RuntimeFixture();
        await Assert.ThrowsAsync<ExecutableNotFoundException>(
            () => fixture.Runtime.CreateAsync(ContainerSpec.For("no-such-program-either"), TestContext.Current.CancellationToken));
        var result = await fixture.Runtime.RunAsync(ContainerSpec.For("true"), TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_invalid_container_name_is_rejected()
    {
        using var fixture = new RuntimeFixture();
        await Assert.ThrowsAsync<InvalidContainerIdException>(
            () => fixture.Runtime.CreateAsync("../escape", ContainerSpec.For("/bin/true"), null, TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_taken_container_name_is_rejected_and_the_first_container_keeps_it()
    {
        using var fixture = new RuntimeFixture();
        await using var first = await fixture.Runtime.CreateAsync("twice", ContainerSpec.For("/bin/true"), null, TestContext.Current.CancellationToken);

        await Assert.ThrowsAsync<ContainerAlreadyExistsException>(
            () => fixture.Runtime.CreateAsync("twice", ContainerSpec.For("/bin/true"), null, TestContext.Current.CancellationToken));
        Assert.Equal("twice", Assert.Single(await fixture.Runtime.ListAsync(TestContext.Current.CancellationToken)).Id);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failing_setup_step_names_the_stage_and_errno()
    {
        using var fixture = new RuntimeFixture();
        var missing = "/nonexistent-" + Guid.NewGuid().ToString("N");
        var spec = ContainerSpec.For("/bin/true").WithMount(new MountSpec { Destination = "/data", Type = "bind", Source = missing, Options = ["rbind"] });

        var error = await Assert.ThrowsAsync<ContainerStartException>(() => fixture.Runtime.CreateAsync(spec, TestContext.Current.CancellationToken));

        Assert.Contains(missing, error.Stage, StringComparison.Ordinal);
        Assert.Equal("ENOENT", error.ErrnoName);
        Assert.Empty(await fixture.Runtime.ListAsync(TestContext.Current.CancellationToken));
    }
}
