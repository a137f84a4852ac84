using Containers.Linux;
using Containers.Runtime;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Tests.Runtime.Plan;

public sealed class RootFilesStepTests
{
    private static PlanContext Context(IReadOnlyList<RootFile> files, CloneFlags namespaces = CloneFlags.NewNs)
    {
        var spec = ContainerSpec.For("/bin/true");
        var context = new PlanContext(spec, spec.Process!, FakeHost.Debian(), new PlanSettings(ContainerStdio.Pipes, false, true, StepRunner.RootMountPoint, RootFiles: files));
        context.NewNamespaces = namespaces;
        return context;
    }

    [Fact]
    public void Each_file_is_written_in_root_where_it_is_a_file_or_missing_after_its_parent_is_made_once()
    {
        var plan = StepRunner.Run(Context([new RootFile("/etc/hosts", "127.0.0.1\tlocalhost\n"u8.ToArray()), new RootFile("/etc/hostname", "box\n"u8.ToArray())]), RootFilesStep.Apply);

        Assert.Equal(
        [
            "MakeDirectory /etc 0755 [Parents|ExistOk]",
            "WriteFile /etc/hosts 20 bytes 0644 [FileOrMissing]",
            "WriteFile /etc/hostname 4 bytes 0644 [FileOrMissing]",
        ],
            plan.Lines);
    }

    [Fact]
    public void No_files_give_no_ops_and_a_shared_mount_namespace_is_refused()
    {
        var none = StepRunner.Run(Context([]), RootFilesStep.Apply);
        var shared = Assert.Throws<InvalidSpecException>(() => StepRunner.Run(Context([new RootFile("/etc/hosts", [1])], CloneFlags.None), RootFilesStep.Apply));

        Assert.Empty(none.Ops);
        Assert.Contains("mount namespace", shared.Message, StringComparison.Ordinal);
    }
}
