using Containers.Linux;

namespace Containers.Runtime.Plan;

/// <summary>
/// A mount's <c>options</c> (as <c>mount(8)</c> spells them) split into what <c>mount(2)</c> takes as flags, what a
/// bind mount takes as mount attributes, and the rest, which goes to the filesystem as its data string.
/// </summary>
internal sealed record MountOptions(MountFlags Flags, MountAttributes Attributes, bool Bind, bool Recursive, string? Data)
{
    public bool ReadOnly => Flags.HasFlag(MountFlags.ReadOnly);

    public static MountOptions Parse(IEnumerable<string> options)
    {
        var flags = MountFlags.None;
        var attributes = MountAttributes.None;
        bool bind = false, recursive = false;
        var data = new List<string>();
        foreach (var option in options)
        {
            switch (option)
            {
                case "ro": flags |= MountFlags.ReadOnly; attributes |= MountAttributes.ReadOnly; break;
                case "nosuid": flags |= MountFlags.NoSuid; attributes |= MountAttributes.NoSuid; break;
                case "nodev": flags |= MountFlags.NoDev; attributes |= MountAttributes.NoDev; break;
                case "noexec": flags |= MountFlags.NoExec; attributes |= MountAttributes.NoExec; break;
                case "noatime": flags |= MountFlags.NoAtime; attributes |= MountAttributes.NoAtime; break;
                case "relatime": flags |= MountFlags.RelAtime; break;
                case "strictatime": flags |= MountFlags.StrictAtime; attributes |= MountAttributes.StrictAtime; break;
                case "bind": bind = true; break;
                case "rbind": bind = true; recursive = true; break;

                // Defaults of mount(2), and propagation, which a private mount namespace already settles.
                case "rw" or "suid" or "dev" or "exec" or "async" or "atime" or "private" or "rprivate" or "slave"
                    or "rslave" or "shared" or "rshared" or "unbindable" or "runbindable":
                    break;
                default: data.Add(option); break;
            }
        }

        return new MountOptions(flags, attributes, bind, recursive, data.Count == 0 ? null : string.Join(',', data));
    }
}
