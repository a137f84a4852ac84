using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// Secrets (<see cref="ContainerCreateOptions.Secrets"/>): a tmpfs of their own at <c>/run/secrets</c>, one file per
/// secret (mode 0400, given to the process's user), written before the read-only tmpfs is attached. The content is in the plan
/// (memory) only: it never touches the container's writable layer, so no commit can take it, and the mount point is
/// the only trace the layer keeps (which a commit leaves out).
/// </summary>
internal static class SecretsStep
{
    /// <summary>Where the secrets appear in the container, as Docker's.</summary>
    public const string Directory = "/run/secrets";

    private const uint DirectoryMode = 0x1ed; // 0755
    private const uint SecretMode = 0x100;    // 0400
    private const int PageSize = 4096;

    public static void Apply(PlanContext context)
    {
        var secrets = context.Settings.Secrets;
        if (secrets is null || secrets.Count == 0)
        {
            return;
        }

        if (!context.OwnsRoot)
        {
            throw new InvalidSpecException([new SpecError("linux.namespaces", "secrets need a mount namespace of the container's own: add {\"type\": \"mount\"} to linux.namespaces")]);
        }

        var contents = new List<(string Name, byte[] Content)>(secrets.Count);
        foreach (var secret in secrets)
        {
            if (contents.Any(c => c.Name == secret.Name))
            {
                throw new InvalidSecretException(secret.Name, "the name is given twice: each secret needs a name of its own");
            }

            contents.Add((secret.Name, secret.ReadContent()));
        }

        // Every file takes whole pages; one more page each for the inode, and some room for the directory.
        var size = contents.Sum(c => ((long)c.Content.Length + (2 * PageSize) - 1) / PageSize * PageSize) + (4 * PageSize);
        var user = context.Process.User;
        var plan = context.Plan;
        plan.MakeDirectory(Directory, DirectoryMode, parents: true, existOk: true, stage: $"create the mount point {Directory}");

        // Filled through the new tmpfs's own fd before it is attached, then moved onto /run/secrets: a write by path
        // after the mount could be redirected by a container that swaps /run/secrets for a link while this one
        // starts (onto /proc/sys/kernel/hostname, or into a volume it shares: the class of CVE-2025-52881).
        plan.TmpfsFiles(
            Directory, ["mode=755", $"size={size}"], contents, SecretMode,
            user.Uid != 0 || user.Gid != 0 ? (user.Uid, user.Gid) : null,
            MountAttributes.ReadOnly | MountAttributes.NoSuid | MountAttributes.NoDev | MountAttributes.NoExec,
            $"mount the secrets on {Directory}");
        context.Files = context.Files?.WithMount(Directory, null);
    }
}
