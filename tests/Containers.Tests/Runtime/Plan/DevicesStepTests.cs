using Containers.Linux;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class DevicesStepTests
{
    private static PlanContext Context(ContainerSpec spec, CloneFlags namespaces, bool inUserNamespace = false)
    {
        var context = StepRunner.Context(spec, FakeHost.Debian());
        context.NewNamespaces = namespaces;
        context.InUserNamespace = inUserNamespace;
        return context;
    }

    private static ContainerSpec With(params LinuxDevice[] devices) =>
        ContainerSpec.For("/bin/true") with { Mounts = [], Linux = new LinuxSpec { Devices = [.. devices] } };

    [Fact]
    public void Each_device_is_made_with_its_type_numbers_and_mode_its_parents_first_and_chowned_when_not_roots()
    {
        var spec = With(
            new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229 },
            new LinuxDevice { Path = "/dev/disks/a", Type = "b", Major = 7, Minor = 1, FileMode = 0x1a0, Gid = 6 });

        var plan = StepRunner.Run(Context(spec, CloneFlags.NewNs), DevicesStep.Apply);

        Assert.Equal(
        [
            "MakeDirectory /dev 0755 [Parents|ExistOk]",
            "MakeNode /dev/fuse 020666 10:229",
            "MakeDirectory /dev/disks 0755 [Parents|ExistOk]",
            "MakeNode /dev/disks/a 060640 7:1",
            "Chown /dev/disks/a 0:6",
        ], plan.Lines);
    }

    [Fact]
    public void Without_a_mount_namespace_of_its_own_nothing_is_made()
    {
        var plan = StepRunner.Run(Context(With(new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229 }), CloneFlags.None), DevicesStep.Apply);

        Assert.Empty(plan.Lines);
    }

    [Fact]
    public void In_a_user_namespace_a_device_is_refused_naming_the_field()
    {
        var context = Context(With(new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229 }), CloneFlags.NewNs | CloneFlags.NewUser, inUserNamespace: true);

        var error = Assert.Throws<InvalidSpecException>(() => DevicesStep.Apply(context));

        Assert.Equal("linux.devices", Assert.Single(error.Errors).JsonPath);
    }
}
