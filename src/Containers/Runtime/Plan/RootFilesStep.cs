using Containers.Linux;
using Containers.Spec;

namespace Containers.Runtime.Plan;

/// <summary>
/// The files the runtime writes into the container's root (<see cref="PlanSettings.RootFiles"/>: an image's
/// container's <c>/etc/hosts</c> and <c>/etc/hostname</c>, <see cref="Images.OwnNetworkFiles"/>), after the mounts and
/// before <c>pivot_root</c>. The child writes each through the root's fd (no link followed outside it, none at the
/// end), mode 0644, a missing parent made first: created, or replacing a regular file; where the root has anything
/// else (a link, a directory), the file is not written (<see cref="PlanOpFlags.FileOrMissing"/>), a check that costs
/// the child one <c>fstatat</c> where looking through an image's layers from here cost about 0.3 ms a start. A
/// created container's root has run nothing yet, so no program of its own can have put anything in the way; a
/// read-only root is made so only afterwards.
/// </summary>
internal static class RootFilesStep
{
    private const uint FileMode = 0x1a4;      // 0644
    private const uint DirectoryMode = 0x1ed; // 0755

    public static void Apply(PlanContext context)
    {
        var files = context.Settings.RootFiles;
        if (files is null || files.Count == 0)
        {
            return;
        }

        if (!context.OwnsRoot)
        {
            throw new InvalidSpecException([new SpecError("linux.namespaces", "files written into the root need a mount namespace of the container's own: add {\"type\": \"mount\"} to linux.namespaces")]);
        }

        var parents = new HashSet<string>(StringComparer.Ordinal) { "/" };
        foreach (var file in files)
        {
            if (Path.GetDirectoryName(file.Path) is { } parent && parents.Add(parent))
            {
                context.Plan.MakeDirectory(parent, DirectoryMode, parents: true, existOk: true, stage: $"create {parent} for {file.Path}");
            }

            context.Plan.WriteFile(file.Path, file.Content, FileMode, $"write {file.Path}", fileOrMissing: true);
        }
    }
}
