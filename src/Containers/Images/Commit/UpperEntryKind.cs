namespace Containers.Images.Commit;

/// <summary>What an entry of an overlay upper directory is, after overlay's own markers are decoded.</summary>
internal enum UpperEntryKind
{
    Directory,
    RegularFile,

    /// <summary>A regular file that is another name of an earlier entry (same inode).</summary>
    HardLink,
    Symlink,
    CharacterDevice,
    BlockDevice,
    Fifo,

    /// <summary>A deleted lower entry: a 0/0 character device, or a file marked with an <c>overlay.whiteout</c> xattr.</summary>
    Whiteout,
}
