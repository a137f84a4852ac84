using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class SecretsStepTests
{
    private static PlanContext Context(ContainerSpec spec, IReadOnlyList<ContainerSecret> secrets, CloneFlags namespaces = CloneFlags.NewNs)
    {
        var context = new PlanContext(spec, spec.Process!, FakeHost.Debian(), new PlanSettings(ContainerStdio.Pipes, false, true, StepRunner.RootMountPoint, Secrets: secrets));
        context.NewNamespaces = namespaces;
        context.Files = new ContainerFiles("/srv/rootfs", [], []);
        return context;
    }

    [Fact]
    public void Secrets_fill_their_own_tmpfs_before_it_is_attached_given_to_the_user_and_read_only()
    {
        var spec = ContainerSpec.For("/bin/true") with { Process = ContainerSpec.For("/bin/true").Process! with { User = new UserSpec { Uid = 1234, Gid = 2000 } } };

        var plan = StepRunner.Run(Context(spec, [ContainerSecret.FromBytes("db", "pw"u8), ContainerSecret.FromBytes("empty", [])]), SecretsStep.Apply);

        Assert.Equal(
        [
            "MakeDirectory /run/secrets 0755 [Parents|ExistOk]",
            "TmpfsFiles /run/secrets [mode=755,size=28672] [db:2,empty:0] 0400 1234:2000 ReadOnly|NoSuid|NoDev|NoExec",
        ],
            plan.Lines);
    }

    [Fact]
    public void Root_gets_no_chown_no_secrets_give_no_ops_and_a_shared_mount_namespace_or_a_repeated_name_is_refused()
    {
        var spec = ContainerSpec.For("/bin/true");

        var root = StepRunner.Run(Context(spec, [ContainerSecret.FromBytes("a", "1"u8)]), SecretsStep.Apply);
        var none = StepRunner.Run(Context(spec, []), SecretsStep.Apply);
        var shared = Assert.Throws<InvalidSpecException>(() => StepRunner.Run(Context(spec, [ContainerSecret.FromBytes("a", "1"u8)], CloneFlags.None), SecretsStep.Apply));
        var twice = Assert.Throws<InvalidSecretException>(() => StepRunner.Run(Context(spec, [ContainerSecret.FromBytes("a", "1"u8), ContainerSecret.FromBytes("a", "2"u8)]), SecretsStep.Apply));

        Assert.Equal("-", Assert.Single(root.Ops, o => o.Code == PlanOpCode.TmpfsFiles).Args[4]);
        Assert.Empty(none.Ops);
        Assert.Contains("mount namespace", shared.Message, StringComparison.Ordinal);
        Assert.Equal("a", twice.Name);
    }

    [Fact]
    public void A_secret_prints_its_name_never_its_content_and_a_bad_name_is_refused()
    {
        var secret = ContainerSecret.FromBytes("token", "hunter2"u8);

        Assert.Equal("secret token", secret.ToString());
        Assert.Throws<InvalidSecretException>(() => ContainerSecret.FromBytes("a/b", "x"u8));
        Assert.Throws<InvalidSecretException>(() => ContainerSecret.FromBytes("..", "x"u8));
        Assert.Throws<InvalidSecretException>(() => ContainerSecret.FromFile("", "/etc/hostname"));
    }
}
